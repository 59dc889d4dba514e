import { z } from 'zod';
import { InlineInputSchema, JOB_ID_PATTERN, type JobInput, S3InputSchema } from './contract.ts';
import { InvalidWorkMessageError } from './errors.ts';

/**
 * Work message: the JSON body of one `gpu-work` message, written by the dispatcher and read by the
 * worker. One message carries several jobs for the same model version so the worker can fill a
 * GPU batch from a few receives.
 *
 * @example
 * { "v": 1, "jobs": [{ "jobId": "a", "model": "shelf-classifier", "modelVersion": "1",
 *   "queuedAt": 1764168000000, "input": { "shape": [3, 32, 32], "data": [ … ] } }] }
 */
export const WORK_MESSAGE_VERSION = 1;

export const WorkJobSchema = z.strictObject({
  jobId: z.string().regex(JOB_ID_PATTERN),
  model: z.string().min(1),
  modelVersion: z.string().min(1),
  /** When the dispatcher wrote the QUEUED record (epoch ms). */
  queuedAt: z.number().int().nonnegative(),
  input: z.union([InlineInputSchema, S3InputSchema]),
});

export const WorkMessageSchema = z.strictObject({
  v: z.literal(WORK_MESSAGE_VERSION),
  jobs: z.array(WorkJobSchema).min(1),
});

export interface WorkJob {
  readonly jobId: string;
  readonly model: string;
  readonly modelVersion: string;
  readonly queuedAt: number;
  readonly input: JobInput;
}

export interface WorkMessage {
  readonly v: typeof WORK_MESSAGE_VERSION;
  readonly jobs: readonly WorkJob[];
}

export function encodeWorkMessage(jobs: readonly WorkJob[]): string {
  return JSON.stringify({ v: WORK_MESSAGE_VERSION, jobs } satisfies WorkMessage);
}

/** Parses a gpu-work body; throws `InvalidWorkMessageError` naming the message and the bad field. */
export function parseWorkMessage(messageId: string, body: string): WorkMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new InvalidWorkMessageError(messageId, `body is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  const result = WorkMessageSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InvalidWorkMessageError(messageId, `${issue.path.map(String).join('.')}: ${issue.message}`);
}

/** A model version's identity: `name@version`. */
export function modelKey(model: string, version: string): string {
  return `${model}@${version}`;
}

/**
 * Message attribute of a gpu-work message holding the W3C trace context of each of its jobs (one
 * message serves several traces): a JSON array index-aligned with `jobs`, `null` for a job without
 * one, e.g. `[{"traceparent":"00-…-01"},null]`. An attribute rather than a body field, so a worker
 * that predates it reads the message as before (the body's schema is strict). Set by the dispatcher
 * only when tracing is on and some job has a context; read by the worker only when tracing is on.
 */
export const JOB_TRACES_ATTRIBUTE = 'job-traces';

/** One job's W3C trace context: the producer's, carried from its inference request. */
export interface JobTrace {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** `JOB_TRACES_ATTRIBUTE`'s value for `traces` (index-aligned with the message's jobs). */
export function encodeJobTraces(traces: readonly (JobTrace | undefined)[]): string {
  return JSON.stringify(traces.map((t) => t ?? null));
}

/** Bytes a job's entry adds to `JOB_TRACES_ATTRIBUTE` (its JSON and a comma). */
export function jobTraceBytes(trace: JobTrace | undefined): number {
  return (trace === undefined ? 4 : Buffer.byteLength(JSON.stringify(trace), 'utf8')) + 1;
}

/** What the attribute costs a message besides its entries: its name, data type and brackets. */
export const JOB_TRACES_OVERHEAD_BYTES = JOB_TRACES_ATTRIBUTE.length + 'String'.length + 2;

const JobTraceSchema = z.object({
  traceparent: z.string().max(256),
  tracestate: z.string().max(1024).optional(),
});

/**
 * The job traces `text` holds for a message of `jobs` jobs. Defensive, as for any trace header: a
 * missing, malformed or misaligned value gives no trace for any job, a bad entry none for its job;
 * it never fails the message. (The traceparent strings themselves are checked where they are used.)
 */
export function parseJobTraces(text: string | undefined, jobs: number): (JobTrace | undefined)[] {
  const none = Array.from({ length: jobs }, () => undefined);
  if (text === undefined) return none;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return none;
  }
  if (!Array.isArray(value) || value.length !== jobs) return none;
  return value.map((entry) => {
    const parsed = JobTraceSchema.safeParse(entry);
    if (!parsed.success) return undefined;
    const { traceparent, tracestate } = parsed.data;
    return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
  });
}
