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
