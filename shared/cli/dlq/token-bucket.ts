/**
 * `--rate n/s` for the mover: a token bucket that refills `ratePerSecond` tokens a second up to
 * `capacity`, so bursts never exceed one receive batch.
 */

import { setTimeout as sleep } from 'node:timers/promises';

export interface TokenBucketOptions {
  readonly ratePerSecond: number;
  /** Most tokens held at once. @default min(10, max(1, ratePerSecond)) */
  readonly capacity?: number;
  /** Clock in ms. @default performance.now */
  readonly now?: () => number;
  /** Waits `ms`. @default timers/promises setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

/** Hands out up to `capacity` tokens at `ratePerSecond`; starts full. */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  private tokens: number;
  private last: number;

  constructor(options: TokenBucketOptions) {
    this.ratePerSecond = options.ratePerSecond;
    this.capacity = options.capacity ?? Math.min(10, Math.max(1, Math.floor(options.ratePerSecond)));
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
    this.tokens = this.capacity;
    this.last = this.now();
  }

  /**
   * Waits until `max` tokens (at most `capacity`) are there and takes them: full batches, fewer
   * requests, the same rate. Rejects with the signal's reason when it is aborted while waiting.
   */
  async take(max: number, signal?: AbortSignal): Promise<number> {
    const wanted = Math.min(Math.max(1, max), this.capacity);
    for (;;) {
      this.refill();
      if (this.tokens >= wanted) {
        this.tokens -= wanted;
        return wanted;
      }
      await this.sleep(Math.ceil(((wanted - this.tokens) / this.ratePerSecond) * 1000), signal);
    }
  }

  /** Gives back tokens taken and not used (a receive returned fewer messages). */
  refund(count: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + count);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}
