/** The time series of a run, for the report: at most ~600 intervals, whatever the duration. */

import { LatencyHistogram } from './histogram.ts';

export interface SeriesPoint {
  /** Interval start, seconds. */
  readonly t: number;
  readonly arrivalsPerSec: number;
  /** Messages handled (written or dead-lettered at once) per second. */
  readonly completedPerSec: number;
  /** Messages queued, being gathered or in flight at the interval's end. */
  readonly backlog: number;
  readonly concurrency: number;
  /** Latency of the messages completed in the interval. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Write units per second the table serves. */
  readonly tableWriteLimit: number;
}

interface Bucket {
  arrived: number;
  completed: number;
  backlog: number;
  concurrency: number;
  tableLimit: number;
  latency?: LatencyHistogram;
}

const MAX_POINTS = 600;

export class SeriesRecorder {
  readonly intervalMs: number;
  private readonly buckets: Bucket[] = [];

  constructor(endMs: number) {
    this.intervalMs = Math.max(1000, Math.ceil(endMs / MAX_POINTS / 1000) * 1000);
  }

  arrived(now: number, n: number): void {
    this.at(now).arrived += n;
  }

  completed(now: number, n: number): void {
    this.at(now).completed += n;
  }

  latency(now: number, ms: number, count: number): void {
    const bucket = this.at(now);
    bucket.latency ??= new LatencyHistogram();
    bucket.latency.add(ms, count);
  }

  sample(now: number, state: { backlog: number; concurrency: number; tableLimit: number }): void {
    const bucket = this.at(now);
    bucket.backlog = state.backlog;
    bucket.concurrency = state.concurrency;
    bucket.tableLimit = state.tableLimit;
  }

  points(): SeriesPoint[] {
    const perSec = 1000 / this.intervalMs;
    return this.buckets.map((b, i) => ({
      t: (i * this.intervalMs) / 1000,
      arrivalsPerSec: b.arrived * perSec,
      completedPerSec: b.completed * perSec,
      backlog: b.backlog,
      concurrency: b.concurrency,
      p50Ms: b.latency?.quantile(0.5) ?? 0,
      p99Ms: b.latency?.quantile(0.99) ?? 0,
      tableWriteLimit: b.tableLimit,
    }));
  }

  private at(now: number): Bucket {
    const index = Math.floor(now / this.intervalMs);
    while (this.buckets.length <= index)
      this.buckets.push({ arrived: 0, completed: 0, backlog: 0, concurrency: 0, tableLimit: 0 });
    return this.buckets[index]!;
  }
}
