/**
 * The GPU worker's loop: polls gpu-work, turns each message's jobs into ready inputs for the
 * micro-batcher, turns each batch's results into job records, and drains on stop. The parts it wires:
 * `message-ledger.ts` (held messages), `batch-runner.ts` (one inference call), `record-writer.ts`
 * (job records).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { PipelineError } from '../../shared/core/errors.ts';
import { withTimeout } from '../../shared/core/timeout.ts';
import type { JobRecord } from '../../shared/pipeline/inference/job-status.ts';
import { GPU_WORKER_METRICS } from '../../shared/pipeline/inference/metric-names.ts';
import { modelKey, parseWorkMessage, type WorkJob } from '../../shared/pipeline/inference/work-message.ts';
import type { TableTarget } from '../../shared/write-batcher/index.ts';
import { itemSize, type LoadedModel, type ModelRef } from './backends/types.ts';
import type { AdaptiveBatchLimit } from './batch-limit.ts';
import { BatchRunner } from './batch-runner.ts';
import { resolveInput, type S3InputReader } from './inputs.ts';
import { type JobSpan, type JobTracer, noJobTracing } from './job-tracing.ts';
import { type HeldMessage, type JobEnd, MessageLedger } from './message-ledger.ts';
import { MicroBatcher } from './micro-batcher.ts';
import type { ModelRegistry } from './models.ts';
import { type JobFinishedEvent, JobRecordWriter, type JobWriter } from './record-writer.ts';
import { type Attempt, doneRecord, failedRecord, runningRecord } from './results.ts';
import type { TaskProtection } from './task-protection.ts';
import type { ReceivedMessage, WorkSource } from './work-source.ts';

export type WorkerLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface WorkerOptions {
  readonly workerId: string;
  /** Loaded and warmed up before polling starts. */
  readonly defaultModel: ModelRef;
  /** Longest a job waits for companions before a partial batch runs. */
  readonly maxDelayMs: number;
  readonly receiveWaitSeconds: number;
  /** Jobs received but not finished; polling pauses above it. */
  readonly maxInFlightJobs: number;
  /** What the heartbeat extends in-flight messages to. */
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatIntervalMs: number;
  /** An inference call that takes longer is treated as hung: its jobs are retried and the worker stops. */
  readonly maxBatchDurationMs: number;
  /** Budget from `stop()` to having handed everything back. */
  readonly stopTimeoutMs: number;
  /** Called once per job whose final record (DONE or FAILED) is durable. */
  readonly onJobFinished?: (event: JobFinishedEvent) => void;
}

export interface WorkerDeps {
  readonly source: WorkSource;
  readonly models: ModelRegistry;
  readonly jobs: JobWriter;
  /** The jobs table. */
  readonly table: TableTarget;
  readonly s3: S3InputReader;
  readonly protection: TaskProtection;
  readonly batchLimit: AdaptiveBatchLimit;
  readonly logger: WorkerLogger;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** A span per job attempt and per inference batch (`jobTracer(tracing)`). @default noJobTracing */
  readonly tracer?: JobTracer;
}

/** Cold start phases, measured by `start()`. */
export interface ColdStart {
  readonly device: string;
  readonly modelLoadMs: number;
  /** First inference (batch of 1) after load. */
  readonly warmUpMs: number;
  /** A full batch after that (allocations and kernels for the largest shape). */
  readonly warmUpFullBatchMs: number;
}

export interface StopReport {
  readonly reason: string;
  /** True when the worker stopped because inference hung: the process should exit non-zero. */
  readonly unhealthy: boolean;
  /** Messages handed back (visibility 0) on the way out. */
  readonly released: number;
  /** True when the stop budget ran out before the running batch finished. */
  readonly timedOut: boolean;
}

interface ReadyJob {
  readonly held: HeldMessage;
  readonly job: WorkJob;
  readonly model: LoadedModel;
  readonly input: Float32Array;
  readonly span: JobSpan;
}

/**
 * The GPU worker: long-polls gpu-work, micro-batches jobs across messages into one inference call
 * per batch, writes RUNNING/DONE/FAILED job records through the WriteBatcher's streaming mode
 * (version-guarded, so only forward), and deletes a message only when every job in it has a
 * durable final record. Transient failures hand the message back for redelivery (SQS moves it to
 * the DLQ after `maxReceiveCount`); bad input is FAILED at once.
 *
 * @example
 * const worker = new GpuWorker(deps, options);
 * await worker.start();                     // load + warm-up before polling
 * process.once('SIGTERM', () => void worker.stop('SIGTERM'));
 * const report = await worker.run();        // resolves once stopped and drained
 */
export class GpuWorker {
  private readonly now: () => number;
  private readonly batcher: MicroBatcher<ReadyJob>;
  private readonly ledger: MessageLedger;
  private readonly runner: BatchRunner;
  private readonly records: JobRecordWriter;
  private readonly tracer: JobTracer;
  private capacityWaiter: (() => void) | undefined;
  /** Cuts waits (backoff sleeps) short on stop. */
  private readonly abort = new AbortController();
  /**
   * Cuts a receive in flight, but only once half the stop budget is gone: a long poll aborted after
   * SQS picked its messages would leave them invisible for the whole visibility timeout, so stop()
   * lets it finish (≤ receiveWaitSeconds) and hands back what it returns.
   */
  private readonly receiveAbort = new AbortController();
  private receiveCutoff: NodeJS.Timeout | undefined;
  private stopping: { reason: string; at: number; unhealthy: boolean } | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions,
  ) {
    this.now = deps.now ?? Date.now;
    this.tracer = deps.tracer ?? noJobTracing;
    this.batcher = new MicroBatcher<ReadyJob>({
      maxDelayMs: options.maxDelayMs,
      limit: () => deps.batchLimit.current(),
      run: (_key, items) => this.runBatch(items),
      onError: (error) => deps.logger.error('batch crashed', { error }),
    });
    this.ledger = new MessageLedger({
      source: deps.source,
      protection: deps.protection,
      logger: deps.logger,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      now: this.now,
    });
    this.runner = new BatchRunner({
      batchLimit: deps.batchLimit,
      maxBatchDurationMs: options.maxBatchDurationMs,
      onHang: () => this.stop('inference hung', true),
      logger: deps.logger,
      metrics: deps.metrics,
    });
    this.records = new JobRecordWriter({
      jobs: deps.jobs,
      table: deps.table,
      logger: deps.logger,
      metrics: deps.metrics,
      onJobFinished: options.onJobFinished,
      now: this.now,
    });
  }

  /** Jobs received and not yet finished. */
  get jobsInFlight(): number {
    return this.ledger.jobsHeld;
  }

  /** Loads the default model and warms it up (batch of 1, then a full batch). Call before `run()`. */
  async start(): Promise<ColdStart> {
    const model = await this.deps.models.get(this.options.defaultModel);
    const width = itemSize(model.itemShape);
    let started = performance.now();
    await model.infer(new Float32Array(width), 1);
    const warmUpMs = performance.now() - started;
    const full = this.deps.batchLimit.current();
    started = performance.now();
    if (full > 1) await model.infer(new Float32Array(width * full), full);
    return {
      device: model.device,
      modelLoadMs: model.loadMs,
      warmUpMs,
      warmUpFullBatchMs: full > 1 ? performance.now() - started : 0,
    };
  }

  /** Polls until `stop()`, then drains; resolves with how it stopped. */
  async run(): Promise<StopReport> {
    this.ledger.startHeartbeat();
    while (!this.stopping) {
      await this.waitForCapacity();
      if (this.stopping) break;
      let received: ReceivedMessage[];
      try {
        received = await this.deps.source.receive(
          10,
          this.options.receiveWaitSeconds,
          this.receiveAbort.signal,
        );
      } catch (error) {
        this.deps.logger.warn('receive failed', { error });
        await sleep(1000, undefined, { signal: this.abort.signal }).catch(() => undefined); // stop() cuts it short
        continue;
      }
      // Accepted even when stop() came meanwhile: held messages are handed back by the drain.
      for (const message of received) this.accept(message);
    }
    clearTimeout(this.receiveCutoff);
    return this.drain();
  }

  /** Stops polling and starts handing work back; `run()` resolves when done. Idempotent. */
  stop(reason: string, unhealthy = false): void {
    if (this.stopping) return;
    this.stopping = { reason, at: this.now(), unhealthy };
    this.ledger.stop();
    this.deps.logger.info('worker stopping', { reason, jobsInFlight: this.ledger.jobsHeld });
    // No new batch from now on, though the drain starts only once the receive in flight returns.
    this.batcher.stop();
    this.abort.abort();
    this.receiveCutoff = setTimeout(() => this.receiveAbort.abort(), this.options.stopTimeoutMs / 2);
    this.receiveCutoff.unref();
    this.capacityWaiter?.();
  }

  private accept(message: ReceivedMessage): void {
    let jobs: readonly WorkJob[];
    try {
      jobs = parseWorkMessage(message.messageId, message.body).jobs;
    } catch (error) {
      // Not a work message at all: no job to fail. Back off; SQS moves it to the DLQ after maxReceiveCount.
      this.deps.logger.error('invalid work message', { messageId: message.messageId, error });
      this.deps.metrics?.addMetric(GPU_WORKER_METRICS.InvalidWorkMessages, MetricUnit.Count, 1);
      this.ledger.backOff(message);
      return;
    }
    const held = this.ledger.hold(message, jobs.length);
    const spans = this.tracer.startJobs(message, jobs);
    jobs.forEach((job, i) => void this.prepare(held, job, spans[i]));
  }

  /** Loads the job's model (cached), checks and converts its input, and queues it for a batch. */
  private async prepare(held: HeldMessage, job: WorkJob, span: JobSpan): Promise<void> {
    try {
      const model = await this.deps.models.get({ name: job.model, version: job.modelVersion });
      const input = await resolveInput(job.input, model.itemShape, this.deps.s3);
      if (this.stopping) return this.finish(held, 'handBack', span);
      this.batcher.add(modelKey(job.model, job.modelVersion), { held, job, model, input, span });
    } catch (error) {
      if (error instanceof PipelineError && !error.retryable) {
        this.writeFinal(held, job, failedRecord(job, this.attempt(held), error, this.now()), span);
      } else {
        this.deps.logger.warn('job not ready, will retry', { jobId: job.jobId, error });
        this.finish(held, 'retry', span);
      }
    }
  }

  private async runBatch(items: ReadyJob[]): Promise<void> {
    const model = items[0]!.model;
    const startedAt = this.now();
    for (const item of items) {
      this.records.running(runningRecord(item.job, this.attempt(item.held), startedAt));
    }
    const results = await this.tracer.inBatch(
      model.ref,
      items.map((item) => item.span),
      () =>
        this.runner.run(
          model,
          items.map((item) => item.input),
        ),
    );
    const finishedAt = this.now();
    items.forEach((item, i) => {
      const result = results[i]!;
      const attempt = this.attempt(item.held);
      if ('output' in result) {
        this.writeFinal(
          item.held,
          item.job,
          doneRecord(item.job, attempt, result.output, startedAt, finishedAt),
          item.span,
        );
      } else if (result.error instanceof PipelineError && !result.error.retryable) {
        this.writeFinal(
          item.held,
          item.job,
          failedRecord(item.job, attempt, result.error, finishedAt),
          item.span,
        );
      } else {
        this.deps.logger.warn('inference failed, will retry', { jobId: item.job.jobId, error: result.error });
        this.deps.metrics?.addMetric(GPU_WORKER_METRICS.JobsRetried, MetricUnit.Count, 1);
        this.finish(item.held, 'retry', item.span);
      }
    });
  }

  /** Writes a final record; the job counts as finished once the write is durable (or stale). */
  private writeFinal(held: HeldMessage, job: WorkJob, record: JobRecord, span: JobSpan): void {
    this.records.final(job, record, (end) => this.finish(held, end, span, record));
  }

  /** One job of `held` is accounted for: the ledger settles the message; polling may resume. */
  private finish(held: HeldMessage, end: JobEnd, span: JobSpan, record?: JobRecord): void {
    this.tracer.endJob(span, end, record);
    this.ledger.settle(held, end);
    if (this.ledger.jobsHeld < this.options.maxInFlightJobs) this.capacityWaiter?.();
  }

  private waitForCapacity(): Promise<void> {
    if (this.ledger.jobsHeld < this.options.maxInFlightJobs || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      this.capacityWaiter = () => {
        this.capacityWaiter = undefined;
        resolve();
      };
    });
  }

  /**
   * The way out: no new batches; jobs not yet in a batch are handed back; the running batch
   * finishes and its records are flushed, within the stop budget; whatever is still held is handed
   * back (visibility 0) so another worker picks it up at once.
   */
  private async drain(): Promise<StopReport> {
    const stopping = this.stopping!;
    const deadline = stopping.at + this.options.stopTimeoutMs;
    this.batcher.stop();
    for (const item of this.batcher.drain()) this.finish(item.held, 'handBack', item.span);
    const inTime = await this.before(deadline, async () => {
      await this.batcher.idle();
      await this.records.flush();
    });
    this.ledger.releaseAll();
    await this.before(deadline, () => this.ledger.idle());
    this.ledger.close();
    return {
      reason: stopping.reason,
      unhealthy: stopping.unhealthy,
      released: this.ledger.released,
      timedOut: !inTime,
    };
  }

  /** Runs `work` until `deadline`; true when it finished in time. */
  private before(deadline: number, work: () => Promise<void>): Promise<boolean> {
    const msLeft = Math.max(0, deadline - this.now());
    return withTimeout(
      work().then(() => true),
      msLeft,
      () => false,
    );
  }

  private attempt(held: HeldMessage): Attempt {
    return { workerId: this.options.workerId, attempt: held.message.receiveCount };
  }
}
