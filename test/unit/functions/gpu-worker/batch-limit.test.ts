import { describe, expect, it } from 'vitest';
import { AdaptiveBatchLimit } from '../../../../functions/gpu-worker/batch-limit.ts';

describe('AdaptiveBatchLimit', () => {
  it('halves the batch size per throttled sample, down to 1', () => {
    // Prepare
    const limit = new AdaptiveBatchLimit({ max: 32 });
    // Act
    const sizes = [true, true, true, true, true, true].map((throttled) => {
      limit.onThrottleSample(throttled);
      return limit.current();
    });
    // Assess
    expect(sizes).toEqual([16, 8, 4, 2, 1, 1]);
  });

  it('doubles back after enough calm samples, never past max', () => {
    // Prepare
    const limit = new AdaptiveBatchLimit({ max: 32, calmSamplesToRecover: 2 });
    limit.onThrottleSample(true);
    limit.onThrottleSample(true);
    // Act
    const sizes = Array.from({ length: 8 }, () => {
      limit.onThrottleSample(false);
      return limit.current();
    });
    // Assess
    expect(sizes).toEqual([8, 16, 16, 32, 32, 32, 32, 32]);
  });

  it('restarts the calm count when throttling returns', () => {
    // Prepare
    const limit = new AdaptiveBatchLimit({ max: 32, calmSamplesToRecover: 2 });
    limit.onThrottleSample(true);
    limit.onThrottleSample(false);
    // Act
    limit.onThrottleSample(true);
    limit.onThrottleSample(false);
    // Assess
    expect(limit.current()).toBe(8);
  });

  it('caps the batch at half of one that ran out of memory and recovers after successful batches', () => {
    // Prepare
    const limit = new AdaptiveBatchLimit({ max: 32, batchesToRecover: 3 });
    // Act
    limit.onOutOfMemory(20);
    const capped = limit.current();
    for (let i = 0; i < 3; i++) limit.onBatchSucceeded();
    // Assess
    expect(capped).toBe(10);
    expect(limit.current()).toBe(20);
  });

  it('applies the lower of the throttle and memory caps', () => {
    // Prepare
    const limit = new AdaptiveBatchLimit({ max: 64 });
    // Act
    limit.onOutOfMemory(64);
    limit.onThrottleSample(true);
    // Assess
    expect(limit.current()).toBe(16);
  });

  it('rejects a max below 1, naming it', () => {
    // Act & Assess
    expect(() => new AdaptiveBatchLimit({ max: 0 })).toThrow('max is 0');
  });
});
