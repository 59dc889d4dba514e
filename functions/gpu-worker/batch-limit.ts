export interface AdaptiveBatchLimitOptions {
  /** The configured `maxBatch`: never exceeded. */
  readonly max: number;
  /** Calm telemetry samples in a row before a throttle cap is doubled back. @default 3 */
  readonly calmSamplesToRecover?: number;
  /** Successful batches at the out-of-memory cap before it is doubled back. @default 20 */
  readonly batchesToRecover?: number;
}

/**
 * The batch size the worker may use right now: `max`, lowered while the GPU reports thermal or power
 * throttling (halved per throttled sample, doubled back after calm ones) and after an out-of-memory
 * error (capped at half the failed batch, doubled back after a run of successful batches).
 */
export class AdaptiveBatchLimit {
  readonly max: number;
  private readonly calmSamplesToRecover: number;
  private readonly batchesToRecover: number;
  private throttleCap: number;
  private memoryCap: number;
  private calmSamples = 0;
  private goodBatches = 0;

  constructor(options: AdaptiveBatchLimitOptions) {
    if (!Number.isInteger(options.max) || options.max < 1)
      throw new RangeError(`max is ${options.max}; use an integer ≥ 1`);
    this.max = options.max;
    this.calmSamplesToRecover = options.calmSamplesToRecover ?? 3;
    this.batchesToRecover = options.batchesToRecover ?? 20;
    this.throttleCap = this.max;
    this.memoryCap = this.max;
  }

  current(): number {
    return Math.max(1, Math.min(this.max, this.throttleCap, this.memoryCap));
  }

  /** Feeds one telemetry sample: `throttled` when thermal or power throttling is active. */
  onThrottleSample(throttled: boolean): void {
    if (throttled) {
      this.calmSamples = 0;
      this.throttleCap = Math.max(1, Math.floor(this.current() / 2));
      return;
    }
    if (this.throttleCap >= this.max) return;
    if (++this.calmSamples >= this.calmSamplesToRecover) {
      this.calmSamples = 0;
      this.throttleCap = Math.min(this.max, this.throttleCap * 2);
    }
  }

  /** A batch of `batchSize` ran out of GPU memory. */
  onOutOfMemory(batchSize: number): void {
    this.goodBatches = 0;
    this.memoryCap = Math.max(1, Math.min(this.memoryCap, Math.floor(batchSize / 2)));
  }

  /** A batch completed. */
  onBatchSucceeded(): void {
    if (this.memoryCap >= this.max) return;
    if (++this.goodBatches >= this.batchesToRecover) {
      this.goodBatches = 0;
      this.memoryCap = Math.min(this.max, this.memoryCap * 2);
    }
  }
}
