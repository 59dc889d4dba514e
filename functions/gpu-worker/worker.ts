import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type {
  FinalOutcome,
  Outcome,
  TableTarget,
  WriteRequest,
} from '../../shared/dynamodb/write-batcher/types.ts';
import { PipelineError } from '../../shared/errors.ts';
import { GpuOutOfMemoryError, InferenceBackendError } from '../../shared/inference/errors.ts';
import { type JobRecord, type JobStatus, jobWrite } from '../../shared/inference/job-status.ts';
import { modelKey, parseWorkMessage, type WorkJob } from '../../shared/inference/work-message.ts';
import { type InferenceOutput, itemSize, type LoadedModel, type ModelRef } from './backends/types.ts';
import type { AdaptiveBatchLimit } from './batch-limit.ts';
import { resolveInput, type S3InputReader } from './inputs.ts';
import { MicroBatcher } from './micro-batcher.ts';
import type { ModelRegistry } from './models.ts';
import { type Attempt, doneRecord, failedRecord, runningRecord } from './results.ts';
import type { TaskProtection } from './task-protection.ts';
import type { ReceivedMessage, WorkSource } from './work-source.ts';

/** Streaming writes of job records: the WriteBatcher's `add()`/`flush()`. */
export interface JobWriter {
  add(request: WriteRequest): Promise<Outcome>;
  flush(): Promise<void>;
}

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
}

export interface JobFinishedEvent {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly queuedAt: number;
  readonly finishedAt: number;
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

/** A received message and what is left of it. */
interface Tracked {
  readonly message: ReceivedMessage;
  jobsLeft: number;
  /** Some job hit a transient error: hand the message back for a later retry. */
  retry: boolean;
  /** Stopping: hand the message back at once. */
  handBack: boolean;
  /** Deleted or released: later news about it is ignored. */
  settled: boolean;
  visibleUntil: number;
}

interface ReadyJob {
  readonly tracked: Tracked;
  readonly job: WorkJob;
  readonly model: LoadedModel;
  readonly input: Float32Array;
}

type JobEnd = 'durable' | 'retry' | 'handBack';

const noop = () => undefined;

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
  private readonly messages = new Map<string, Tracked>();
  private readonly writes = new Set<Promise<void>>();
  private readonly ops = new Set<Promise<void>>();
  private pendingDeletes: Tracked[] = [];
  private pendingReleases: { tracked: Tracked; seconds: number }[] = [];
  private opsScheduled = false;
  private inFlightJobs = 0;
  private capacityWaiter: (() => void) | undefined;
  private readonly abort = new AbortController();
  private stopping: { reason: string; at: number; unhealthy: boolean } | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private busy = false;
  private handedBack = 0;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions,
  ) {
    this.now = deps.now ?? Date.now;
    this.batcher = new MicroBatcher<ReadyJob>({
      maxDelayMs: options.maxDelayMs,
      limit: () => deps.batchLimit.current(),
      run: (_key, items) => this.runBatch(items),
      onError: (error) => deps.logger.error('batch crashed', { error }),
    });
  }

  /** Jobs received and not yet finished. */
  get jobsInFlight(): number {
    return this.inFlightJobs;
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
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatIntervalMs);
    while (!this.stopping) {
      await this.waitForCapacity();
      if (this.stopping) break;
      let received: ReceivedMessage[];
      try {
        received = await this.deps.source.receive(10, this.options.receiveWaitSeconds, this.abort.signal);
      } catch (error) {
        this.deps.logger.warn('receive failed', { error });
        await this.sleep(1000);
        continue;
      }
      for (const message of received) this.accept(message);
    }
    return this.drain();
  }

  /** Stops polling and starts handing work back; `run()` resolves when done. Idempotent. */
  stop(reason: string, unhealthy = false): void {
    if (this.stopping) return;
    this.stopping = { reason, at: this.now(), unhealthy };
    this.deps.logger.info('worker stopping', { reason, jobsInFlight: this.inFlightJobs });
    this.abort.abort();
    this.capacityWaiter?.();
  }

  private accept(message: ReceivedMessage): void {
    let jobs: readonly WorkJob[];
    try {
      jobs = parseWorkMessage(message.messageId, message.body).jobs;
    } catch (error) {
      // Not a work message at all: no job to fail. Back off; SQS moves it to the DLQ after maxReceiveCount.
      this.deps.logger.error('invalid work message', { messageId: message.messageId, error });
      this.deps.metrics?.addMetric('InvalidWorkMessages', MetricUnit.Count, 1);
      const seconds = backoffSeconds(message.receiveCount);
      this.track(() => this.deps.source.changeVisibility([message], seconds).then(noop));
      return;
    }
    const tracked: Tracked = {
      message,
      jobsLeft: jobs.length,
      retry: false,
      handBack: false,
      settled: false,
      visibleUntil: this.now() + this.options.visibilityTimeoutSeconds * 1000,
    };
    this.messages.set(message.messageId, tracked);
    this.inFlightJobs += jobs.length;
    this.updateBusy();
    for (const job of jobs) void this.prepare(tracked, job);
  }

  /** Loads the job's model (cached), checks and converts its input, and queues it for a batch. */
  private async prepare(tracked: Tracked, job: WorkJob): Promise<void> {
    try {
      const model = await this.deps.models.get({ name: job.model, version: job.modelVersion });
      const input = await resolveInput(job.input, model.itemShape, this.deps.s3);
      if (this.stopping) return this.finish(tracked, 'handBack');
      this.batcher.add(modelKey(job.model, job.modelVersion), { tracked, job, model, input });
    } catch (error) {
      if (error instanceof PipelineError && !error.retryable) {
        this.writeFinal(tracked, job, failedRecord(job, this.attempt(tracked), error, this.now()));
      } else {
        this.deps.logger.warn('job not ready, will retry', { jobId: job.jobId, error });
        this.finish(tracked, 'retry');
      }
    }
  }

  private async runBatch(items: ReadyJob[]): Promise<void> {
    const model = items[0]!.model;
    const startedAt = this.now();
    this.deps.logger.debug('batch started', { model: model.ref, jobs: items.length });
    for (const item of items) {
      // RUNNING is informational: a lost one changes nothing (DONE supersedes it).
      this.deps.jobs
        .add(jobWrite(this.deps.table, runningRecord(item.job, this.attempt(item.tracked), startedAt)))
        .catch(noop);
    }
    const started = performance.now();
    const results = await this.inferWithSplits(model, items);
    const inferenceMs = performance.now() - started;
    const finishedAt = this.now();
    this.deps.metrics?.addMetric('BatchSize', MetricUnit.Count, items.length);
    this.deps.metrics?.addMetric('InferenceLatency', MetricUnit.Milliseconds, inferenceMs);
    this.deps.logger.debug('batch done', {
      model: model.ref,
      jobs: items.length,
      inferenceMs: Math.round(inferenceMs),
    });
    items.forEach((item, i) => {
      const result = results[i]!;
      if ('output' in result) {
        this.writeFinal(
          item.tracked,
          item.job,
          doneRecord(item.job, this.attempt(item.tracked), result.output, startedAt, finishedAt),
        );
      } else if (result.error instanceof PipelineError && !result.error.retryable) {
        this.writeFinal(
          item.tracked,
          item.job,
          failedRecord(item.job, this.attempt(item.tracked), result.error, finishedAt),
        );
      } else {
        this.deps.logger.warn('inference failed, will retry', { jobId: item.job.jobId, error: result.error });
        this.deps.metrics?.addMetric('JobsRetried', MetricUnit.Count, 1);
        this.finish(item.tracked, 'retry');
      }
    });
  }

  /** Runs a batch; on GPU out-of-memory, lowers the batch limit and runs the halves. */
  private async inferWithSplits(
    model: LoadedModel,
    items: readonly ReadyJob[],
  ): Promise<({ output: InferenceOutput } | { error: unknown })[]> {
    const width = itemSize(model.itemShape);
    const batch = new Float32Array(items.length * width);
    for (const [i, item] of items.entries()) batch.set(item.input, i * width);
    try {
      const out = await this.withTimeout(model.infer(batch, items.length));
      const outWidth = itemSize(out.itemShape);
      this.deps.batchLimit.onBatchSucceeded();
      return items.map((_, i) => ({
        output: { data: out.data.subarray(i * outWidth, (i + 1) * outWidth), itemShape: out.itemShape },
      }));
    } catch (error) {
      if (error instanceof GpuOutOfMemoryError && items.length > 1) {
        this.deps.batchLimit.onOutOfMemory(items.length);
        this.deps.metrics?.addMetric('GpuOutOfMemory', MetricUnit.Count, 1);
        this.deps.logger.warn('GPU out of memory, splitting the batch', {
          batchSize: items.length,
          batchLimit: this.deps.batchLimit.current(),
        });
        const half = Math.ceil(items.length / 2);
        return [
          ...(await this.inferWithSplits(model, items.slice(0, half))),
          ...(await this.inferWithSplits(model, items.slice(half))),
        ];
      }
      return items.map(() => ({ error }));
    }
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.deps.logger.error('inference hung; stopping the worker', {
          maxBatchDurationMs: this.options.maxBatchDurationMs,
        });
        this.stop('inference hung', true);
        reject(
          new InferenceBackendError(
            'worker',
            `inference took longer than ${this.options.maxBatchDurationMs} ms`,
          ),
        );
      }, this.options.maxBatchDurationMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /** Writes a final record; the job counts as finished once the write is durable (or stale). */
  private writeFinal(tracked: Tracked, job: WorkJob, record: JobRecord): void {
    const write = this.deps.jobs
      .add(jobWrite(this.deps.table, record))
      .then(
        (outcome) => {
          const final = finalOf(outcome);
          if (final.status === 'written' || final.status === 'stale') {
            this.deps.metrics?.addMetric(
              record.status === 'DONE' ? 'JobsDone' : 'JobsFailed',
              MetricUnit.Count,
              1,
            );
            this.options.onJobFinished?.({
              jobId: job.jobId,
              status: record.status,
              queuedAt: job.queuedAt,
              finishedAt: this.now(),
            });
            this.finish(tracked, 'durable');
          } else {
            this.deps.logger.warn('job record not written, will retry', {
              jobId: job.jobId,
              outcome: final.status,
            });
            this.finish(tracked, 'retry');
          }
        },
        (error: unknown) => {
          this.deps.logger.warn('job record write failed, will retry', { jobId: job.jobId, error });
          this.finish(tracked, 'retry');
        },
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  /** One job of `tracked` is accounted for; the last one decides the message's fate. */
  private finish(tracked: Tracked, end: JobEnd): void {
    this.inFlightJobs--;
    if (end === 'retry') tracked.retry = true;
    if (end === 'handBack') tracked.handBack = true;
    if (this.inFlightJobs < this.options.maxInFlightJobs) this.capacityWaiter?.();
    if (--tracked.jobsLeft > 0 || tracked.settled) return;
    tracked.settled = true;
    this.messages.delete(tracked.message.messageId);
    if (tracked.handBack) this.queueRelease(tracked, 0);
    else if (tracked.retry)
      this.queueRelease(tracked, this.stopping ? 0 : backoffSeconds(tracked.message.receiveCount));
    else this.pendingDeletes.push(tracked);
    this.scheduleOps();
    this.updateBusy();
  }

  private queueRelease(tracked: Tracked, seconds: number): void {
    if (this.stopping) this.handedBack++;
    this.pendingReleases.push({ tracked, seconds });
  }

  /** Deletes and releases go out in batches of up to 10, once per tick. */
  private scheduleOps(): void {
    if (this.opsScheduled) return;
    this.opsScheduled = true;
    setImmediate(() => {
      this.opsScheduled = false;
      this.flushOps();
    });
  }

  private flushOps(): void {
    const deletes = this.pendingDeletes.splice(0);
    const releases = this.pendingReleases.splice(0);
    if (deletes.length > 0) {
      this.track(async () => {
        const failed = await this.deps.source.delete(deletes.map((t) => t.message));
        // Not deleted: it comes back, and its jobs' writes are stale (no harm, only GPU time).
        if (failed.length > 0) this.deps.logger.warn('delete failed', { messageIds: failed });
      });
    }
    const bySeconds = new Map<number, ReceivedMessage[]>();
    for (const { tracked, seconds } of releases) {
      bySeconds.set(seconds, [...(bySeconds.get(seconds) ?? []), tracked.message]);
    }
    for (const [seconds, messages] of bySeconds) {
      this.track(async () => {
        await this.deps.source.changeVisibility(messages, seconds);
      });
    }
  }

  private track(op: () => Promise<void>): void {
    const promise = op()
      .catch((error: unknown) => this.deps.logger.warn('queue call failed', { error }))
      .finally(() => this.ops.delete(promise));
    this.ops.add(promise);
  }

  /** Heartbeat: extend messages that would become visible before the next beat; renew protection. */
  private beat(): void {
    const now = this.now();
    const horizon = now + 2 * this.options.heartbeatIntervalMs;
    const due = [...this.messages.values()].filter((t) => !t.settled && t.visibleUntil <= horizon);
    if (due.length > 0) {
      const seconds = this.options.visibilityTimeoutSeconds;
      for (const t of due) t.visibleUntil = now + seconds * 1000;
      this.track(async () => {
        const failed = await this.deps.source.changeVisibility(
          due.map((t) => t.message),
          seconds,
        );
        if (failed.length > 0) this.deps.logger.warn('heartbeat failed', { messageIds: failed });
      });
    }
    if (this.busy) void this.deps.protection.setBusy(true);
  }

  private updateBusy(): void {
    const busy = this.messages.size > 0;
    if (busy === this.busy) return;
    this.busy = busy;
    void this.deps.protection.setBusy(busy);
  }

  private waitForCapacity(): Promise<void> {
    if (this.inFlightJobs < this.options.maxInFlightJobs || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      this.capacityWaiter = () => {
        this.capacityWaiter = undefined;
        resolve();
      };
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
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
    for (const item of this.batcher.drain()) this.finish(item.tracked, 'handBack');
    const inTime = await this.before(deadline, async () => {
      await this.batcher.idle();
      await this.deps.jobs.flush();
      await Promise.allSettled([...this.writes]);
    });
    for (const tracked of this.messages.values()) {
      if (tracked.settled) continue;
      tracked.settled = true;
      this.queueRelease(tracked, 0);
    }
    this.messages.clear();
    this.flushOps();
    await this.before(deadline, () => Promise.allSettled([...this.ops]).then(noop));
    clearInterval(this.heartbeat);
    this.updateBusy();
    return {
      reason: stopping.reason,
      unhealthy: stopping.unhealthy,
      released: this.handedBack,
      timedOut: !inTime,
    };
  }

  /** Runs `work` until `deadline`; true when it finished in time. */
  private async before(deadline: number, work: () => Promise<void>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - this.now()));
    });
    const done = work().then(() => true as const);
    const result = await Promise.race([done, late]);
    clearTimeout(timer);
    return result;
  }

  private attempt(tracked: Tracked): Attempt {
    return { workerId: this.options.workerId, attempt: tracked.message.receiveCount };
  }
}

/** Visibility before a message that failed transiently comes back: 1, 2, 4 … 30 s. */
export function backoffSeconds(receiveCount: number): number {
  return Math.min(30, 2 ** Math.max(0, receiveCount - 1));
}

function finalOf(outcome: Outcome): FinalOutcome {
  return outcome.status === 'coalesced' ? outcome.final : outcome;
}
