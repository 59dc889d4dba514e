/**
 * One inference batch: packs the items' inputs into one call and splits the outputs back per item.
 * On GPU out-of-memory it lowers the adaptive batch limit and runs the halves; a call that outlasts
 * `maxBatchDurationMs` is treated as hung (its items fail retryably and `onHang` stops the worker).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { withTimeout } from '../../shared/core/timeout.ts';
import { GpuOutOfMemoryError, InferenceBackendError } from '../../shared/pipeline/inference/errors.ts';
import { GPU_WORKER_METRICS } from '../../shared/pipeline/inference/metric-names.ts';
import { type InferenceOutput, itemSize, type LoadedModel } from './backends/types.ts';
import type { AdaptiveBatchLimit } from './batch-limit.ts';

export interface BatchRunnerOptions {
  /** Lowered on out-of-memory, told of every batch that succeeds. */
  readonly batchLimit: AdaptiveBatchLimit;
  /** An inference call that takes longer is treated as hung. */
  readonly maxBatchDurationMs: number;
  /** Called once per hung call, before its items fail: the worker should stop, unhealthy. */
  readonly onHang: () => void;
  readonly logger: Pick<Logger, 'debug' | 'warn' | 'error'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
}

/** What one item of a batch got: its slice of the output, or the error of the call it was in. */
export type ItemResult = { readonly output: InferenceOutput } | { readonly error: unknown };

/**
 * @example
 * const runner = new BatchRunner({ batchLimit, maxBatchDurationMs: 30_000, onHang: () => worker.stop('inference hung', true), logger });
 * const results = await runner.run(model, inputs);   // one result per input, in order
 */
export class BatchRunner {
  constructor(private readonly options: BatchRunnerOptions) {}

  /** Runs `inputs` (one per item, each of the model's item size) as one batch; never rejects. */
  async run(model: LoadedModel, inputs: readonly Float32Array[]): Promise<ItemResult[]> {
    const { logger, metrics } = this.options;
    logger.debug('batch started', { model: model.ref, jobs: inputs.length });
    const started = performance.now();
    const results = await this.inferWithSplits(model, inputs);
    const inferenceMs = performance.now() - started;
    metrics?.addMetric(GPU_WORKER_METRICS.BatchSize, MetricUnit.Count, inputs.length);
    metrics?.addMetric(GPU_WORKER_METRICS.InferenceLatency, MetricUnit.Milliseconds, inferenceMs);
    logger.debug('batch done', {
      model: model.ref,
      jobs: inputs.length,
      inferenceMs: Math.round(inferenceMs),
    });
    return results;
  }

  /** Runs a batch; on GPU out-of-memory, lowers the batch limit and runs the halves. */
  private async inferWithSplits(model: LoadedModel, inputs: readonly Float32Array[]): Promise<ItemResult[]> {
    const { batchLimit, logger, metrics } = this.options;
    const width = itemSize(model.itemShape);
    const batch = new Float32Array(inputs.length * width);
    for (const [i, input] of inputs.entries()) batch.set(input, i * width);
    try {
      const out = await this.failIfHung(model.infer(batch, inputs.length));
      const outWidth = itemSize(out.itemShape);
      batchLimit.onBatchSucceeded();
      return inputs.map((_, i) => ({
        output: { data: out.data.subarray(i * outWidth, (i + 1) * outWidth), itemShape: out.itemShape },
      }));
    } catch (error) {
      if (error instanceof GpuOutOfMemoryError && inputs.length > 1) {
        batchLimit.onOutOfMemory(inputs.length);
        metrics?.addMetric(GPU_WORKER_METRICS.GpuOutOfMemory, MetricUnit.Count, 1);
        logger.warn('GPU out of memory, splitting the batch', {
          batchSize: inputs.length,
          batchLimit: batchLimit.current(),
        });
        const half = Math.ceil(inputs.length / 2);
        return [
          ...(await this.inferWithSplits(model, inputs.slice(0, half))),
          ...(await this.inferWithSplits(model, inputs.slice(half))),
        ];
      }
      return inputs.map(() => ({ error }));
    }
  }

  /** Fails the call once it runs past maxBatchDurationMs, and reports the hang (the worker stops). */
  private failIfHung<T>(promise: Promise<T>): Promise<T> {
    const { maxBatchDurationMs } = this.options;
    return withTimeout(promise, maxBatchDurationMs, () => {
      this.options.logger.error('inference hung; stopping the worker', { maxBatchDurationMs });
      this.options.onHang();
      throw new InferenceBackendError('worker', `inference took longer than ${maxBatchDurationMs} ms`);
    });
  }
}
