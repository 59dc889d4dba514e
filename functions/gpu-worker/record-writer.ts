/**
 * Writes job records (built by `results.ts`) through the WriteBatcher's streaming mode and decides
 * when a job counts as finished: its final record (DONE or FAILED) is durable, or stale because a
 * later one already is. RUNNING records are informational and best-effort.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type JobRecord, type JobStatus, jobWrite } from '../../shared/pipeline/inference/job-status.ts';
import { GPU_WORKER_METRICS } from '../../shared/pipeline/inference/metric-names.ts';
import type { WorkJob } from '../../shared/pipeline/inference/work-message.ts';
import {
  finalOutcome,
  type Outcome,
  type TableTarget,
  type WriteRequest,
} from '../../shared/write-batcher/index.ts';

/** Streaming writes of job records: the WriteBatcher's `add()`/`flush()`. */
export interface JobWriter {
  add(request: WriteRequest): Promise<Outcome>;
  flush(): Promise<void>;
}

export interface JobFinishedEvent {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly queuedAt: number;
  readonly finishedAt: number;
}

export interface JobRecordWriterOptions {
  readonly jobs: JobWriter;
  /** The jobs table. */
  readonly table: TableTarget;
  readonly logger: Pick<Logger, 'warn'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  /** Called once per job whose final record (DONE or FAILED) is durable. */
  readonly onJobFinished?: (event: JobFinishedEvent) => void;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** What became of a final record: durable (the job is finished) or not (retry the job later). */
export type FinalWrite = 'durable' | 'retry';

/**
 * @example
 * const records = new JobRecordWriter({ jobs: writeBatcher, table });
 * records.running(runningRecord(job, attempt, startedAt));
 * records.final(job, doneRecord(job, attempt, output, startedAt, finishedAt), (end) => settle(end));
 * await records.flush();                     // on the way out
 */
export class JobRecordWriter {
  private readonly now: () => number;
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly options: JobRecordWriterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Writes a RUNNING record; a lost one changes nothing (DONE supersedes it). */
  running(record: JobRecord): void {
    this.options.jobs.add(jobWrite(this.options.table, record)).catch(() => undefined);
  }

  /** Writes a final record of `job`; `done` hears whether it is durable (or stale) once it is known. */
  final(job: WorkJob, record: JobRecord, done: (end: FinalWrite) => void): void {
    const { logger, metrics } = this.options;
    const write = this.options.jobs
      .add(jobWrite(this.options.table, record))
      .then(
        (outcome) => {
          const final = finalOutcome(outcome);
          if (final.status === 'written' || final.status === 'stale') {
            metrics?.addMetric(
              record.status === 'DONE' ? GPU_WORKER_METRICS.JobsDone : GPU_WORKER_METRICS.JobsFailed,
              MetricUnit.Count,
              1,
            );
            this.options.onJobFinished?.({
              jobId: job.jobId,
              status: record.status,
              queuedAt: job.queuedAt,
              finishedAt: this.now(),
            });
            done('durable');
          } else {
            logger.warn('job record not written, will retry', { jobId: job.jobId, outcome: final.status });
            done('retry');
          }
        },
        (error: unknown) => {
          logger.warn('job record write failed, will retry', { jobId: job.jobId, error });
          done('retry');
        },
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  /** Flushes the writer and resolves once every final record written so far is settled. */
  async flush(): Promise<void> {
    await this.options.jobs.flush();
    await Promise.allSettled([...this.writes]);
  }
}
