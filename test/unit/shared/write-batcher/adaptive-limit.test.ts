import { describe, expect, it } from 'vitest';
import { AdaptiveWindows, type Permit } from '../../../../shared/write-batcher/adaptive-limit.ts';

/** Takes `count` places in `table`'s window (each must be granted at once). */
async function take(windows: AdaptiveWindows, table: string, count: number): Promise<Permit[]> {
  return Promise.all(Array.from({ length: count }, () => windows.acquire([table])));
}

/** Whether a pending promise settled by the time queued microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('AdaptiveWindows', () => {
  it('starts a table at min(4, maxConcurrency) and makes the next request wait for a place', async () => {
    // Prepare
    const windows = new AdaptiveWindows({ maxConcurrency: 32 });
    const held = await take(windows, 'orders', 4);
    // Act
    const fifth = windows.acquire(['orders']);
    // Assess
    expect(windows.windowOf('orders')).toBe(4);
    expect(await settled(fifth)).toBe(false);
    held[0]!.failed();
    expect(await settled(fifth)).toBe(true);
    expect(windows.inFlightOf('orders')).toBe(4);
    expect(new AdaptiveWindows({ maxConcurrency: 2 }).windowOf('orders')).toBe(2);
  });

  it('doubles per window of answers until the first throttle (slow start)', async () => {
    const windows = new AdaptiveWindows({ maxConcurrency: 32 });
    for (const permit of await take(windows, 'orders', 4)) permit.answered();
    expect(windows.windowOf('orders')).toBe(8);
    for (const permit of await take(windows, 'orders', 8)) permit.answered();
    expect(windows.windowOf('orders')).toBe(16);
  });

  it('halves on a throttle, then grows by one per two windows of answers', async () => {
    // Prepare: 16 after slow start
    const windows = new AdaptiveWindows({ maxConcurrency: 32, initialWindow: 16 });
    // Act: one request of 16 throttled
    const first = await take(windows, 'orders', 16);
    first[0]!.answered(['orders']);
    // Assess
    expect(windows.windowOf('orders')).toBe(8);
    for (const permit of first.slice(1)) permit.answered();
    expect(windows.windowOf('orders')).toBe(8); // answers from before the decrease carry no news
    for (let round = 0; round < 2; round++) {
      for (const permit of await take(windows, 'orders', 8)) permit.answered();
    }
    expect(windows.windowOf('orders')).toBe(9);
  });

  it('halves once per congestion event: throttles of requests sent before the decrease do not count', async () => {
    const windows = new AdaptiveWindows({ maxConcurrency: 32, initialWindow: 16 });
    const permits = await take(windows, 'orders', 16);
    for (const permit of permits) permit.answered(['orders']);
    expect(windows.windowOf('orders')).toBe(8);
    // A request sent after the decrease is fresh news.
    (await windows.acquire(['orders'])).answered(['orders']);
    expect(windows.windowOf('orders')).toBe(4);
  });

  it('never shrinks below 1 nor grows past maxConcurrency', async () => {
    const windows = new AdaptiveWindows({ maxConcurrency: 6 });
    for (let i = 0; i < 10; i++) (await windows.acquire(['orders'])).answered(['orders']);
    expect(windows.windowOf('orders')).toBe(1);
    for (let i = 0; i < 500; i++) (await windows.acquire(['orders'])).answered();
    expect(windows.windowOf('orders')).toBe(6);
    expect(new AdaptiveWindows({ maxConcurrency: 6, initialWindow: 100 }).windowOf('orders')).toBe(6);
  });

  it('keeps tables independent: a throttle on one leaves the others alone', async () => {
    const windows = new AdaptiveWindows({ maxConcurrency: 32, initialWindow: 8 });
    (await windows.acquire(['orders'])).answered(['orders']);
    // A request to both tables throttled by one of them halves that one only, and grows the other.
    (await windows.acquire(['orders', 'audit'])).answered(['orders']);
    expect(windows.windowOf('orders')).toBe(2);
    expect(windows.windowOf('audit')).toBe(9);
    expect(windows.windowOf('events')).toBe(8);
  });

  it('lets a failure without news free its place without resizing', async () => {
    const windows = new AdaptiveWindows({ maxConcurrency: 32 });
    const [permit] = await take(windows, 'orders', 1);
    permit!.failed();
    permit!.answered(['orders']); // a second release is ignored
    expect(windows.windowOf('orders')).toBe(4);
    expect(windows.inFlightOf('orders')).toBe(0);
  });
});
