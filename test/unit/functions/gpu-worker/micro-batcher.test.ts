import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MicroBatcher } from '../../../../functions/gpu-worker/micro-batcher.ts';

describe('MicroBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function batcher(limit: number, maxDelayMs: number, runMs = 0) {
    const batches: { key: string; items: number[] }[] = [];
    const micro = new MicroBatcher<number>({
      maxDelayMs,
      limit: () => limit,
      now: () => Date.now(),
      run: async (key, items) => {
        batches.push({ key, items });
        if (runMs > 0) await new Promise((resolve) => setTimeout(resolve, runMs));
      },
    });
    return { micro, batches };
  }

  it('runs a batch as soon as the limit is reached', async () => {
    // Prepare
    const { micro, batches } = batcher(3, 1_000);
    // Act
    for (const n of [1, 2, 3]) micro.add('m@1', n);
    await vi.advanceTimersByTimeAsync(0);
    // Assess
    expect(batches).toEqual([{ key: 'm@1', items: [1, 2, 3] }]);
  });

  it('runs a partial batch once the oldest item has waited maxDelayMs', async () => {
    // Prepare
    const { micro, batches } = batcher(8, 10);
    micro.add('m@1', 1);
    await vi.advanceTimersByTimeAsync(5);
    micro.add('m@1', 2);
    // Act
    await vi.advanceTimersByTimeAsync(4);
    const before = batches.length;
    await vi.advanceTimersByTimeAsync(1);
    // Assess
    expect(before).toBe(0);
    expect(batches).toEqual([{ key: 'm@1', items: [1, 2] }]);
  });

  it('runs one batch at a time and fills the next from what arrived meanwhile', async () => {
    // Prepare
    const { micro, batches } = batcher(4, 0, 50);
    // Act
    micro.add('m@1', 1);
    await vi.advanceTimersByTimeAsync(1);
    for (const n of [2, 3, 4, 5, 6]) micro.add('m@1', n);
    await vi.advanceTimersByTimeAsync(100);
    // Assess
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3, 4, 5], [6]]);
  });

  it('never mixes keys in one batch and serves the oldest due key first', async () => {
    // Prepare
    const { micro, batches } = batcher(8, 10);
    micro.add('b@1', 1);
    await vi.advanceTimersByTimeAsync(2);
    micro.add('a@1', 2);
    micro.add('b@1', 3);
    // Act
    await vi.advanceTimersByTimeAsync(20);
    // Assess
    expect(batches).toEqual([
      { key: 'b@1', items: [1, 3] },
      { key: 'a@1', items: [2] },
    ]);
  });

  it('starts no batch after stop and hands back what is waiting', async () => {
    // Prepare
    const { micro, batches } = batcher(8, 10);
    micro.add('m@1', 1);
    micro.add('m@1', 2);
    // Act
    micro.stop();
    await vi.advanceTimersByTimeAsync(50);
    const drained = micro.drain();
    // Assess
    expect(batches).toEqual([]);
    expect(drained).toEqual([1, 2]);
    expect(micro.size).toBe(0);
  });

  it('follows a limit that changes between batches', async () => {
    // Prepare
    let limit = 4;
    const batches: number[][] = [];
    const micro = new MicroBatcher<number>({
      maxDelayMs: 1_000,
      limit: () => limit,
      now: () => Date.now(),
      run: async (_key, items) => {
        batches.push(items);
        limit = 2;
      },
    });
    // Act
    for (let n = 1; n <= 8; n++) micro.add('m@1', n);
    await vi.advanceTimersByTimeAsync(0);
    // Assess
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6],
      [7, 8],
    ]);
  });
});
