import { afterEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from '../../../../shared/core/timeout.ts';

const never = () => new Promise<never>(() => {});

describe('withTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('settles as the work does when it finishes in time, and clears its timer', async () => {
    // Prepare
    vi.useFakeTimers();
    const onTimeout = vi.fn(() => 'late');
    // Act
    const result = await withTimeout(Promise.resolve('done'), 1_000, onTimeout);
    // Assess
    expect(result).toBe('done');
    expect(vi.getTimerCount()).toBe(0);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it('rejects as the work does, and clears its timer', async () => {
    // Prepare
    vi.useFakeTimers();
    const failure = new Error('boom');
    // Act
    const race = withTimeout(Promise.reject(failure), 1_000, () => 'late');
    // Assess
    await expect(race).rejects.toBe(failure);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves with what onTimeout returns once the time is up', async () => {
    // Prepare
    vi.useFakeTimers();
    // Act
    const race = withTimeout(never(), 1_000, () => false);
    await vi.advanceTimersByTimeAsync(1_000);
    // Assess
    await expect(race).resolves.toBe(false);
  });

  it('rejects with what onTimeout throws once the time is up', async () => {
    // Prepare
    vi.useFakeTimers();
    const timeout = new Error('took too long');
    // Act
    const race = withTimeout(never(), 1_000, () => {
      throw timeout;
    });
    const assessed = expect(race).rejects.toBe(timeout);
    await vi.advanceTimersByTimeAsync(1_000);
    // Assess
    await assessed;
  });

  it('does not time out a moment early', async () => {
    // Prepare
    vi.useFakeTimers();
    const onTimeout = vi.fn(() => 'late');
    // Act
    const race = withTimeout(never(), 1_000, onTimeout);
    await vi.advanceTimersByTimeAsync(999);
    // Assess
    expect(onTimeout).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onTimeout).toHaveBeenCalledOnce();
    await expect(race).resolves.toBe('late');
  });
});
