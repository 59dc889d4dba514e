import type { PipelineError } from '../../shared/core/errors.ts';
import { type JobRecord, JobStatus, jobExpiry } from '../../shared/pipeline/inference/job-status.ts';
import type { WorkJob } from '../../shared/pipeline/inference/work-message.ts';

/** Who writes, and which delivery of the work message this is. */
export interface Attempt {
  readonly workerId: string;
  /** The message's ApproximateReceiveCount. */
  readonly attempt: number;
}

function base(job: WorkJob, attempt: Attempt) {
  return {
    jobId: job.jobId,
    model: job.model,
    modelVersion: job.modelVersion,
    queuedAt: job.queuedAt,
    attempt: attempt.attempt,
    workerId: attempt.workerId,
  };
}

export function runningRecord(job: WorkJob, attempt: Attempt, startedAt: number): JobRecord {
  return { ...base(job, attempt), status: JobStatus.RUNNING, startedAt, expiresAt: jobExpiry(startedAt) };
}

/** Index of the largest value (the predicted class of a classifier). */
export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export function doneRecord(
  job: WorkJob,
  attempt: Attempt,
  output: { readonly data: Float32Array; readonly itemShape: readonly number[] },
  startedAt: number,
  finishedAt: number,
): JobRecord {
  return {
    ...base(job, attempt),
    status: JobStatus.DONE,
    startedAt,
    finishedAt,
    output: { shape: [...output.itemShape], data: Array.from(output.data) },
    topClass: argMax(output.data),
    expiresAt: jobExpiry(finishedAt),
  };
}

export function failedRecord(
  job: WorkJob,
  attempt: Attempt,
  error: PipelineError,
  finishedAt: number,
): JobRecord {
  return {
    ...base(job, attempt),
    status: JobStatus.FAILED,
    finishedAt,
    error: { code: error.code, message: error.message },
    expiresAt: jobExpiry(finishedAt),
  };
}
