/** A sample's own rate, from its `sentAt` timestamps, in one-second buckets. */

import { round } from './stats.ts';

export interface ObservedRate {
  /** From the first to the last timestamp. */
  readonly durationSeconds: number;
  /** Messages per second over the sample's whole seconds (first to last, empty ones included). */
  readonly meanPerSec: number;
  /** The busiest second's messages. */
  readonly peakPerSec: number;
  /** Peak over mean: 1 for a steady stream. */
  readonly burstiness: number;
  /** Standard deviation of the per-second counts over their mean. */
  readonly coefficientOfVariation: number;
  /** Messages in each second, from the first timestamp's second on. */
  readonly perSecond: readonly number[];
}

/** Buckets sorted epoch-millisecond timestamps by second (second 0 starts at the first one). */
export function observedRate(sortedAtMs: readonly number[]): ObservedRate {
  const first = sortedAtMs[0]!;
  const last = sortedAtMs[sortedAtMs.length - 1]!;
  const perSecond = new Array<number>(Math.floor((last - first) / 1000) + 1).fill(0);
  for (const at of sortedAtMs) perSecond[Math.floor((at - first) / 1000)]!++;
  const mean = sortedAtMs.length / perSecond.length;
  const peak = Math.max(...perSecond);
  const variance = perSecond.reduce((sum, c) => sum + (c - mean) ** 2, 0) / perSecond.length;
  return {
    durationSeconds: round((last - first) / 1000, 3),
    meanPerSec: round(mean, 3),
    peakPerSec: peak,
    burstiness: round(peak / mean, 3),
    coefficientOfVariation: round(Math.sqrt(variance) / mean, 3),
    perSecond,
  };
}
