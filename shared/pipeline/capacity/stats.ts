/** Small statistics over counts and samples, for the capacity analysis. */

/**
 * Shannon entropy, in bits (base 2), of the distribution the counts describe: 0 when one value has
 * every count, log2(n) when n values have equal counts.
 *
 * @example shannonEntropyBits([1, 1, 2]) // 1.5
 */
export function shannonEntropyBits(counts: Iterable<number>): number {
  let total = 0;
  const values: number[] = [];
  for (const c of counts) {
    if (c <= 0) continue;
    total += c;
    values.push(c);
  }
  if (total === 0) return 0;
  let bits = 0;
  for (const c of values) {
    const p = c / total;
    bits -= p * Math.log2(p);
  }
  // -0 and rounding noise below zero for a single value.
  return Math.max(0, bits);
}

/** Entropy relative to its maximum for this many distinct values (1 = uniform); 1 for one value. */
export function normalizedEntropy(bits: number, distinct: number): number {
  return distinct <= 1 ? 1 : bits / Math.log2(distinct);
}

/** The `q` quantile (0..1) of values by the nearest-rank method; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** Min, mean, p50, p90, p99 and max of values. */
export interface Distribution {
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function distributionOf(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    min: sorted[0] ?? 0,
    mean: sorted.length === 0 ? 0 : sum / sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

/** Adds `amount` to `key`'s count. */
export function bump<K>(map: Map<K, number>, key: K, amount = 1): void {
  map.set(key, (map.get(key) ?? 0) + amount);
}

/** The `n` entries with the highest counts, highest first (ties in insertion order). */
export function topEntries<K>(map: ReadonlyMap<K, number>, n: number): [K, number][] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** Rounds to `digits` decimals, so printed and JSON figures stay readable. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Equal-width bins (1, 2 or 5 × 10^k wide) over the values' range, about `target` of them. */
export function histogram(
  values: readonly number[],
  target = 10,
): { fromBytes: number; toBytes: number; count: number }[] {
  if (values.length === 0) return [];
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const width = niceStep((max - min) / target);
  const first = Math.floor(min / width) * width;
  const bins = Array.from({ length: Math.floor((max - first) / width) + 1 }, (_, i) => ({
    fromBytes: first + i * width,
    toBytes: first + (i + 1) * width,
    count: 0,
  }));
  for (const v of values) bins[Math.floor((v - first) / width)]!.count++;
  return bins;
}

function niceStep(raw: number): number {
  if (raw <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}
