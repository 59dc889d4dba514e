import type { TableTarget, WriteRequest } from '../../write-batcher/index.ts';
import { inferenceSettings } from './settings.ts';

/**
 * Job states and their ranks. A job record is written with `version` = rank, so the WriteBatcher's
 * version guard only ever moves a job forward: a redelivered message can never turn `DONE` back
 * into `RUNNING`, and the first terminal state (`DONE` or `FAILED`) wins.
 */
export const JobStatus = {
  QUEUED: 'QUEUED',
  RUNNING: 'RUNNING',
  DONE: 'DONE',
  FAILED: 'FAILED',
} as const;

export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export const statusRank: Readonly<Record<JobStatus, number>> = {
  QUEUED: 1,
  RUNNING: 2,
  DONE: 3,
  FAILED: 3,
};

export function isTerminal(status: JobStatus): boolean {
  return statusRank[status] === statusRank.DONE;
}

/** A model output row: the tensor of one job. */
export interface JobOutput {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** Why a job failed, as stored: a stable code and a message naming the bad value. */
export interface JobFailure {
  readonly code: string;
  readonly message: string;
}

/** One job record in the jobs table. Every write carries the whole record (puts replace items). */
export interface JobRecord {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly model?: string;
  readonly modelVersion?: string;
  /** Epoch ms. */
  readonly queuedAt?: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly output?: JobOutput;
  /** Index of the largest output value (a classifier's predicted class). */
  readonly topClass?: number;
  readonly error?: JobFailure;
  /** SQS receive count of the work message when the record was written. */
  readonly attempt?: number;
  readonly workerId?: string;
  /** TTL (epoch seconds). */
  readonly expiresAt: number;
}

export function jobsTableTarget(tableName: string): TableTarget {
  return { tableName, partitionKey: inferenceSettings.jobsTable.partitionKey };
}

/** Expiry (epoch seconds) of a record written at `nowMs`. */
export function jobExpiry(
  nowMs: number,
  retentionDays: number = inferenceSettings.jobsTable.retentionDays,
): number {
  return Math.floor(nowMs / 1000) + retentionDays * 86_400;
}

/** The version-guarded put of a job record. */
export function jobWrite(target: TableTarget, record: JobRecord): WriteRequest {
  const item = Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
  return { op: 'put', target, item, version: statusRank[record.status] };
}
