import type { SendEntry } from '../../shared/sqs/index.ts';
import type { Deadline, WriteRequest, WriteResult } from '../../shared/write-batcher/index.ts';

/** Writes job records (the WriteBatcher's batch mode). */
export interface JobRecordWriter {
  writeAll(requests: readonly WriteRequest[], options: { deadline: Deadline }): Promise<WriteResult>;
}

/** Finds which jobs already reached a terminal state (a duplicate of those needs no GPU time). */
export interface JobStatusReader {
  terminalJobIds(jobIds: readonly string[]): Promise<ReadonlySet<string>>;
}

/**
 * Where messages go: the gpu-work queue and the requests DLQ. `SqsBatchSender` (shared/sqs) is
 * one; `send` resolves once SQS accepted the message and rejects when it cannot be sent.
 */
export interface MessageSink {
  send(entry: SendEntry): Promise<unknown>;
}

/** What `ServiceScaler.ensureRunning` did. */
export type ScaleOutcome =
  /** The service already wants tasks (asked ECS, or a recent answer said so). */
  | 'running'
  /** The service was at zero; its desired count was raised. */
  | 'scaled-from-zero'
  /** No service to scale (local runs). */
  | 'disabled';

/**
 * Scale from zero without waiting for CloudWatch: raises the worker service's desired count when
 * it is at zero. The scaling policy owns every change after that.
 */
export interface ServiceScaler {
  ensureRunning(): Promise<ScaleOutcome>;
}

/** Picks the model version a job runs on (static configuration or a staged rollout). */
export interface ModelVersionResolver {
  /** The version for `model`; throws `UnknownModelError` when no version serves it. */
  resolve(model: string, jobId: string): Promise<string>;
}
