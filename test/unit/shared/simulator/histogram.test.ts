import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../../shared/simulator/histogram.ts';

describe('LatencyHistogram', () => {
  it('gives weighted percentiles within 1 %', () => {
    // Prepare: 99 messages at 100 ms, 1 at 5,000 ms
    const h = new LatencyHistogram();
    h.add(100, 99);
    h.add(5000, 1);
    // Assess
    expect(h.count).toBe(100);
    expect(h.quantile(0.5)).toBeGreaterThanOrEqual(100);
    expect(h.quantile(0.5)).toBeLessThan(101);
    expect(h.quantile(0.995)).toBe(5000);
    expect(h.meanMs).toBeCloseTo(149, 6);
  });

  it('is empty until something is added', () => {
    // Assess
    expect(new LatencyHistogram().quantile(0.99)).toBe(0);
  });
});
