import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { PipelineError } from '../../shared/core/errors.ts';
import type { DeadLetterSink } from '../../shared/pipeline/dead-letter.ts';
import type { InferenceRequest } from '../../shared/pipeline/inference/contract.ts';
import { UnknownModelError } from '../../shared/pipeline/inference/errors.ts';
import {
  type JobRecord,
  JobStatus,
  jobExpiry,
  jobWrite,
} from '../../shared/pipeline/inference/job-status.ts';
import {
  encodeJobTraces,
  JOB_TRACES_ATTRIBUTE,
  type JobTrace,
  type WorkJob,
} from '../../shared/pipeline/inference/work-message.ts';
import type { SendEntry } from '../../shared/sqs/index.ts';
import {
  type Deadline,
  type FinalOutcome,
  finalOutcome,
  type Outcome,
  type TableTarget,
} from '../../shared/write-batcher/index.ts';
import { type PackedMessage, type PackingLimits, packWorkMessages } from './packing.ts';
import type {
  JobRecordWriter,
  JobStatusReader,
  MessageSink,
  ModelVersionResolver,
  ScaleOutcome,
  ServiceScaler,
} from './ports.ts';
import { parseRecord } from './schema.ts';

export interface DispatchDeps {
  readonly jobs: JobRecordWriter;
  readonly statuses: JobStatusReader;
  /** The gpu-work queue. */
  readonly work: MessageSink;
  /** The inference-requests DLQ: invalid requests go there at once. */
  readonly deadLetters: DeadLetterSink;
  readonly scaler: ServiceScaler;
  readonly versions: ModelVersionResolver;
  /** The jobs table. */
  readonly table: TableTarget;
  /** The WriteBatcher stops retrying at this point (the Lambda deadline minus a margin). */
  readonly deadline: Deadline;
  readonly packing?: PackingLimits;
  readonly now?: () => number;
  /**
   * The trace context of a request record, carried to the worker with its job (the job-traces
   * attribute of its work message). Given only when tracing is on. @default none
   */
  readonly jobTrace?: (record: SQSRecord) => JobTrace | undefined;
}

export interface DispatchStats {
  received: number;
  /** Jobs sent to gpu-work. */
  queued: number;
  /** Records whose jobId appeared earlier in the batch, or whose job already finished. */
  duplicates: number;
  /** Invalid requests sent to the DLQ (with a FAILED record when they carry a jobId). */
  deadLettered: number;
  workMessages: number;
  /** Records left for redelivery. */
  retried: number;
}

/** A record the dispatcher could not handle this time, and why (for the log; never the payload). */
export interface DispatchProblem {
  readonly messageId: string;
  readonly jobId?: string;
  readonly code: string;
  readonly detail: string;
}

export interface DispatchResult {
  readonly batchItemFailures: SQSBatchItemFailure[];
  readonly stats: DispatchStats;
  /** Invalid requests (sent to the DLQ) and retried records. */
  readonly problems: readonly DispatchProblem[];
  /** What the scale-from-zero call did; `idle` when no work was sent. */
  readonly scale: ScaleOutcome | 'idle' | { readonly error: unknown };
}

interface Accepted {
  readonly record: SQSRecord;
  readonly request: InferenceRequest;
  readonly modelVersion: string;
}

interface Rejected {
  readonly record: SQSRecord;
  readonly error: PipelineError;
  /** Set when this record owns the job's FAILED record (first of its jobId in the batch). */
  readonly jobId?: string;
  readonly model?: string;
}

/**
 * Dispatches a batch of inference requests: validates each, writes a version-guarded job record
 * (`QUEUED`, or `FAILED` for an invalid request), packs the accepted jobs into work messages for
 * gpu-work, sends invalid requests to the DLQ, and raises the worker service from zero when work
 * went out. Records that could not be handled completely are returned as batch item failures
 * (redelivery is safe: every step is idempotent by jobId).
 */
export async function dispatchRequests(
  records: readonly SQSRecord[],
  deps: DispatchDeps,
): Promise<DispatchResult> {
  const now = deps.now?.() ?? Date.now();
  const stats: DispatchStats = {
    received: records.length,
    queued: 0,
    duplicates: 0,
    deadLettered: 0,
    workMessages: 0,
    retried: 0,
  };
  const failed = new Map<string, DispatchProblem>();
  const retry = (record: SQSRecord, code: string, detail: string, jobId?: string) => {
    if (!failed.has(record.messageId))
      failed.set(record.messageId, { messageId: record.messageId, jobId, code, detail });
  };
  const invalidProblems: DispatchProblem[] = [];

  // Validate, resolve the model version, and keep the first record of each jobId.
  const accepted: Accepted[] = [];
  const rejected: Rejected[] = [];
  const seen = new Set<string>();
  for (const parsed of records.map(parseRecord)) {
    const { record } = parsed;
    if (!parsed.ok) {
      const owns = parsed.jobId !== undefined && !seen.has(parsed.jobId);
      if (parsed.jobId !== undefined) seen.add(parsed.jobId);
      rejected.push({ record, error: parsed.error, ...(owns ? { jobId: parsed.jobId } : {}) });
      continue;
    }
    const { jobId, model } = parsed.request;
    if (seen.has(jobId)) {
      stats.duplicates++;
      continue;
    }
    seen.add(jobId);
    try {
      accepted.push({
        record,
        request: parsed.request,
        modelVersion: await deps.versions.resolve(model, jobId),
      });
    } catch (error) {
      // Only an unknown model is the request's fault; a failed lookup is retried.
      if (error instanceof UnknownModelError) {
        rejected.push({ record, error, jobId, model });
      } else {
        retry(record, codeOf(error), `model version lookup failed: ${String(error)}`, jobId);
      }
    }
  }

  // Job records: QUEUED for accepted jobs, FAILED for invalid ones that carry a jobId.
  const queuedRecord = (a: Accepted): JobRecord => ({
    jobId: a.request.jobId,
    status: JobStatus.QUEUED,
    model: a.request.model,
    modelVersion: a.modelVersion,
    queuedAt: now,
    expiresAt: jobExpiry(now),
  });
  const failedRecord = (r: Rejected & { jobId: string }): JobRecord => ({
    jobId: r.jobId,
    status: JobStatus.FAILED,
    ...(r.model ? { model: r.model } : {}),
    error: { code: r.error.code, message: r.error.message },
    finishedAt: now,
    expiresAt: jobExpiry(now),
  });
  const withRecord = rejected.filter((r): r is Rejected & { jobId: string } => r.jobId !== undefined);
  const requests = [
    ...accepted.map((a) => jobWrite(deps.table, queuedRecord(a))),
    ...withRecord.map((r) => jobWrite(deps.table, failedRecord(r))),
  ];
  const { outcomes } = requests.length
    ? await deps.jobs.writeAll(requests, { deadline: deps.deadline })
    : { outcomes: [] as Outcome[] };

  const toSend: Accepted[] = [];
  const stale: Accepted[] = [];
  accepted.forEach((a, i) => {
    const outcome = finalOf(outcomes[i]);
    if (outcome.status === 'written') toSend.push(a);
    else if (outcome.status === 'stale') stale.push(a);
    else if (outcome.status === 'rejected') rejected.push({ record: a.record, error: outcome.error });
    else retry(a.record, 'JOB_RECORD_NOT_WRITTEN', outcome.detail, a.request.jobId);
  });
  const recordOutcomes = new Map<Rejected, FinalOutcome>();
  for (const [i, r] of withRecord.entries()) recordOutcomes.set(r, finalOf(outcomes[accepted.length + i]));
  const toDeadLetter = rejected.filter((r) => {
    const outcome = recordOutcomes.get(r);
    if (outcome?.status !== 'retryable') return true;
    retry(r.record, 'JOB_RECORD_NOT_WRITTEN', outcome.detail, r.jobId);
    return false;
  });

  // A stale QUEUED write means the jobId was seen before: skip it if it already finished, send it
  // again otherwise (an earlier attempt may have failed before reaching gpu-work).
  if (stale.length > 0) {
    const terminal = await deps.statuses
      .terminalJobIds(stale.map((a) => a.request.jobId))
      .catch(() => new Set<string>());
    for (const a of stale) {
      if (terminal.has(a.request.jobId)) stats.duplicates++;
      else toSend.push(a);
    }
  }

  // Work messages.
  const { jobTrace } = deps;
  const messages = packWorkMessages(
    toSend.map((a) => {
      const trace = jobTrace?.(a.record);
      return { job: workJob(a, now), owner: a, ...(trace ? { trace } : {}) };
    }),
    deps.packing,
  );
  const sent = await Promise.allSettled(messages.map((m) => deps.work.send(workEntry(m))));
  sent.forEach((result, i) => {
    const owners = messages[i]!.owners;
    if (result.status === 'fulfilled') {
      stats.workMessages++;
      stats.queued += owners.length;
    } else {
      for (const a of owners) retry(a.record, codeOf(result.reason), String(result.reason), a.request.jobId);
    }
  });

  // Invalid requests: straight to the DLQ, the reason in its attributes.
  const deadLettered = toDeadLetter.length
    ? await deps.deadLetters.send(
        toDeadLetter.map((r) => ({
          messageId: r.record.messageId,
          body: r.record.body,
          errorCode: r.error.code,
          errorMessage: r.error.message,
        })),
      )
    : [];
  toDeadLetter.forEach((r, i) => {
    if (deadLettered[i]) {
      invalidProblems.push({
        messageId: r.record.messageId,
        jobId: r.jobId,
        code: r.error.code,
        detail: r.error.message,
      });
    } else {
      retry(r.record, r.error.code, 'the DLQ did not accept the invalid request', r.jobId);
    }
  });

  let scale: DispatchResult['scale'] = 'idle';
  if (stats.workMessages > 0) {
    try {
      scale = await deps.scaler.ensureRunning();
    } catch (error) {
      // The backlog alarm scales out too, only later: a failed shortcut must not fail the batch.
      scale = { error };
    }
  }

  stats.deadLettered = invalidProblems.length;
  stats.retried = failed.size;
  return {
    batchItemFailures: [...failed.keys()].map((itemIdentifier) => ({ itemIdentifier })),
    stats,
    problems: [...invalidProblems, ...failed.values()],
    scale,
  };
}

/** The gpu-work message of a packed message: its body, and its jobs' trace contexts when any. */
function workEntry(message: PackedMessage<unknown>): SendEntry {
  if (!message.traces) return { body: message.body };
  return {
    body: message.body,
    messageAttributes: {
      [JOB_TRACES_ATTRIBUTE]: { DataType: 'String', StringValue: encodeJobTraces(message.traces) },
    },
  };
}

function workJob(a: Accepted, queuedAt: number): WorkJob {
  return {
    jobId: a.request.jobId,
    model: a.request.model,
    modelVersion: a.modelVersion,
    queuedAt,
    input: a.request.input,
  };
}

/** The outcome that decides a request's fate (a coalesced write shares its successor's). */
function finalOf(outcome: Outcome | undefined): FinalOutcome {
  if (outcome === undefined) return { status: 'retryable', reason: 'error', detail: 'no outcome returned' };
  return finalOutcome(outcome);
}

function codeOf(error: unknown): string {
  return error instanceof PipelineError ? error.code : error instanceof Error ? error.name : 'UNKNOWN';
}
