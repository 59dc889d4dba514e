import { describe, expect, it } from 'vitest';
import {
  distributionOf,
  histogram,
  normalizedEntropy,
  quantile,
  shannonEntropyBits,
} from '../../../../../shared/pipeline/capacity/stats.ts';

describe('shannonEntropyBits', () => {
  it.each([
    ['one value', [7], 0],
    ['two equal values', [5, 5], 1],
    ['eight equal values', [1, 1, 1, 1, 1, 1, 1, 1], 3],
    // p = 1/4, 1/4, 1/2: 2 × (1/4 × 2) + 1/2 × 1 = 1.5
    ['1, 1, 2', [1, 1, 2], 1.5],
    ['zeros ignored', [0, 3, 0, 3], 1],
    ['nothing', [], 0],
  ])('is exact for %s', (_, counts, bits) => {
    expect(shannonEntropyBits(counts)).toBeCloseTo(bits, 12);
  });

  it('normalises by log2 of the distinct count', () => {
    expect(normalizedEntropy(1.5, 3)).toBeCloseTo(1.5 / Math.log2(3), 12);
    expect(normalizedEntropy(0, 1)).toBe(1);
  });
});

describe('quantile and distributionOf', () => {
  it('takes the nearest rank', () => {
    const sorted = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect([quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99)]).toEqual([50, 90, 100]);
  });

  it('summarises values in any order', () => {
    expect(distributionOf([3, 1, 2, 10])).toEqual({ min: 1, mean: 4, p50: 2, p90: 10, p99: 10, max: 10 });
  });
});

describe('histogram', () => {
  it('bins a narrow range in 1-byte steps', () => {
    expect(histogram([48, 49, 49, 51])).toEqual([
      { fromBytes: 48, toBytes: 49, count: 1 },
      { fromBytes: 49, toBytes: 50, count: 2 },
      { fromBytes: 50, toBytes: 51, count: 0 },
      { fromBytes: 51, toBytes: 52, count: 1 },
    ]);
  });

  it('picks a 1-2-5 width for about ten bins', () => {
    const bins = histogram([0, 1500, 4999]);
    expect(bins.map((b) => b.fromBytes)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500]);
    expect(bins.map((b) => b.count)).toEqual([1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  });
});
