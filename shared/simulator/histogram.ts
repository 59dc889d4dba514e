/**
 * Latency as a weighted histogram on a log scale (1 % wide buckets from 1 ms to ~11 days): counts
 * of messages go in, not messages, so a percentile costs the same at any rate.
 */

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(1e9) / LOG_GROWTH) + 1;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private max = 0;

  /** Adds `count` messages of latency `ms`. */
  add(ms: number, count: number): void {
    if (count <= 0) return;
    const index = ms <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms) / LOG_GROWTH));
    this.counts[index]! += count;
    this.total += count;
    this.sum += ms * count;
    if (ms > this.max) this.max = ms;
  }

  get count(): number {
    return this.total;
  }

  get meanMs(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  get maxMs(): number {
    return this.max;
  }

  /** The latency under which a share `q` (0..1) of the messages fall: the bucket's upper edge. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const target = q * this.total;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= target && this.counts[i]! > 0) return Math.min(this.max, i === 0 ? 1 : GROWTH ** i);
    }
    return this.max;
  }
}
