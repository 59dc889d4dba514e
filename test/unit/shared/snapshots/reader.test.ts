import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../../../../shared/core/options.ts';
import { pipelineConfigParser } from '../../../../shared/pipeline/config.ts';
import { SnapshotNotFoundError, SnapshotNotLoadedError } from '../../../../shared/snapshots/errors.ts';
import { SnapshotPublisher } from '../../../../shared/snapshots/publisher.ts';
import { SnapshotReader, type SnapshotReaderOptions } from '../../../../shared/snapshots/reader.ts';
import { MemorySnapshotStore } from '../../../support/fakes/memory-snapshot-store.ts';

const NAME = 'app';

function setup() {
  const store = new MemorySnapshotStore();
  const publisher = new SnapshotPublisher({ store });
  const reader = <T = unknown>(options: Omit<SnapshotReaderOptions<T>, 'store'> = {}) =>
    new SnapshotReader<T>({ name: NAME, maxAgeMs: 60_000, ...options, store });
  return { store, publisher, reader };
}

describe('loading', () => {
  it('refuses get() before the first load', () => {
    // Prepare
    const { reader } = setup();
    // Act
    const get = () => reader().get();
    // Assess
    expect(get).toThrow(SnapshotNotLoadedError);
  });

  it('returns one deeply frozen object, the same on every get()', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { routing: { items: { ops: ['put'] } } });
    const r = reader<{ routing: { items: { ops: string[] } } }>();
    // Act
    const loaded = await r.load();
    // Assess
    expect(r.get()).toBe(loaded);
    expect(r.get()).toBe(r.get());
    expect(Object.isFrozen(loaded)).toBe(true);
    expect(Object.isFrozen(loaded.data.routing.items.ops)).toBe(true);
    expect(() => loaded.data.routing.items.ops.push('delete')).toThrow(TypeError);
  });

  it('fails the first load with a typed error when nothing was published', async () => {
    // Prepare
    const { reader } = setup();
    // Act
    const load = reader().load();
    // Assess
    await expect(load).rejects.toBeInstanceOf(SnapshotNotFoundError);
  });

  it('serves the bootstrap document as version 0 until a version is published', async () => {
    // Prepare
    const { publisher, reader } = setup();
    const r = reader({ bootstrap: { from: 'env' } });
    const first = await r.load();
    await publisher.publish(NAME, { from: 'snapshot' });
    // Act
    await r.refresh();
    // Assess
    expect(first).toMatchObject({ version: 0, source: 'bootstrap', data: { from: 'env' } });
    expect(r.get()).toMatchObject({ version: 1, data: { from: 'snapshot' } });
  });

  it('validates the document with parse before adopting it', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { n: 'not a number' });
    const r = reader({
      parse: (doc) => {
        if (typeof (doc as { n: unknown }).n !== 'number') throw new SnapshotNotFoundError('parse says no');
        return doc;
      },
    });
    // Act
    const load = r.load();
    // Assess
    await expect(load).rejects.toThrow(/parse says no/);
  });
});

describe('routes to tables the pipeline may not write', () => {
  const route = (tableName: string) => ({ tableName, partitionKey: 'pk', sortKey: 'sk' });
  const parse = pipelineConfigParser(['items-table']);

  it('never adopts a version that routes to a table outside the granted ones, keeping the last good one', async () => {
    // Prepare: an older publisher (no grant check) published the second version.
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { routing: { items: route('items-table') } });
    const r = reader({ parse });
    const good = await r.load();
    await publisher.publish(NAME, {
      routing: { items: route('items-table'), orders: route('orders-table') },
    });
    // Act
    const outcome = await r.refresh();
    // Assess
    expect(outcome).toMatchObject({ status: 'stale', error: { code: 'ROUTE_NOT_GRANTED' } });
    expect(r.get()).toBe(good);
    expect(Object.keys(r.get().data.routing)).toEqual(['items']);
  });

  it('fails the first load of such a version with ROUTE_NOT_GRANTED rather than routing by it', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { routing: { orders: route('orders-table') } });
    // Act
    const load = reader({ parse, bootstrap: parse({ routing: { items: route('items-table') } }) }).load();
    // Assess
    await expect(load).rejects.toMatchObject({ code: 'ROUTE_NOT_GRANTED', path: 'routing.orders.tableName' });
  });
});

describe('refresh', () => {
  it('reads only the pointer, once, when nothing changed', async () => {
    // Prepare
    const { store, publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const r = reader();
    const before = await r.load();
    const calls = { ...store.calls };
    // Act
    const outcome = await r.refresh();
    // Assess
    expect(outcome).toEqual({ status: 'unchanged', generation: 1 });
    expect(store.calls.getPointer - calls.getPointer).toBe(1);
    expect(store.calls.getManifest - calls.getManifest).toBe(0);
    expect(store.calls.getChunks - calls.getChunks).toBe(0);
    expect(r.get()).toBe(before);
  });

  it('adopts a new version as a new object', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const r = reader();
    const before = await r.load();
    await publisher.publish(NAME, { a: 2 });
    // Act
    const outcome = await r.refresh();
    // Assess
    expect(outcome).toEqual({ status: 'updated', generation: 2, fetched: [2] });
    expect(r.get()).not.toBe(before);
    expect(r.get()).toMatchObject({ version: 2, data: { a: 2 } });
  });

  it('runs one refresh however many callers ask at once', async () => {
    // Prepare
    const { store, publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const r = reader();
    await r.load();
    const calls = store.calls.getPointer;
    // Act
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => r.refresh()));
    // Assess
    expect(store.calls.getPointer - calls).toBe(1);
    expect(new Set(outcomes).size).toBe(1);
  });
});

describe('stale-if-error', () => {
  it('keeps the last good snapshot when the store fails, and reports its age', async () => {
    // Prepare
    const { store, publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const metrics = { addMetric: vi.fn() };
    const logger = { info: vi.fn(), warn: vi.fn() };
    let now = 1_000;
    const r = reader({ metrics, logger, clock: () => now });
    const good = await r.load();
    now += 45_000;
    store.failNext('getPointer', () => new Error('connection reset'));
    // Act
    const outcome = await r.refresh();
    // Assess
    expect(outcome).toMatchObject({
      status: 'stale',
      ageMs: 45_000,
      error: { code: 'SNAPSHOT_FETCH_FAILED' },
    });
    expect(r.get()).toBe(good);
    expect(r.status()).toMatchObject({ ageMs: 45_000, lastError: { code: 'SNAPSHOT_FETCH_FAILED' } });
    expect(metrics.addMetric).toHaveBeenCalledWith('SnapshotRefreshFailed', 'Count', 1);
    expect(metrics.addMetric).toHaveBeenCalledWith('SnapshotStaleAge', 'Seconds', 45);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('last good snapshot'),
      expect.objectContaining({ ageMs: 45_000, errorCode: 'SNAPSHOT_FETCH_FAILED', version: 1 }),
    );
  });

  it.each([
    ['a tampered chunk', 'CHECKSUM_MISMATCH', (s: MemorySnapshotStore) => s.tamper(NAME, 2)],
    ['a missing chunk', 'MISSING_CHUNK', (s: MemorySnapshotStore) => s.removeChunk(NAME, 2)],
    [
      'a pointer to a missing version',
      'SNAPSHOT_VERSION_NOT_FOUND',
      (s: MemorySnapshotStore) =>
        s.pointers.set(NAME, { ...s.pointers.get(NAME)!, generation: 3, stable: 99 }),
    ],
  ])('keeps the last good snapshot on %s', async (_, code, damage) => {
    // Prepare
    const { store, publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const r = reader();
    const good = await r.load();
    await publisher.publish(NAME, { a: 2 });
    damage(store);
    // Act
    const outcome = await r.refresh();
    // Assess
    expect(outcome).toMatchObject({ status: 'stale', error: { code } });
    expect(r.get()).toBe(good);
  });

  it('never adopts a lower pointer generation', async () => {
    // Prepare
    const { store, publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    await publisher.publish(NAME, { a: 2 });
    const r = reader();
    const good = await r.load();
    store.pointers.set(NAME, { ...store.pointers.get(NAME)!, generation: 1, stable: 1 });
    // Act
    const outcome = await r.refresh();
    // Assess
    expect(outcome).toMatchObject({ status: 'stale', error: { code: 'POINTER_REGRESSED' } });
    expect(r.get()).toBe(good);
    expect(r.status().generation).toBe(2);
  });

  it('recovers on the next refresh once the store answers again', async () => {
    // Prepare
    const { store, publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const r = reader();
    await r.load();
    await publisher.publish(NAME, { a: 2 });
    store.failNext('getChunks', () => new Error('throttled'));
    await r.refresh();
    // Act
    const outcome = await r.refresh();
    // Assess
    expect(outcome).toMatchObject({ status: 'updated', generation: 2 });
    expect(r.status().lastError).toBeUndefined();
  });
});

describe('max age', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('get() returns the current snapshot at once and starts a refresh once it is past max age', async () => {
    // Prepare
    const { store, publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const r = reader({ maxAgeMs: 1_000 });
    const first = await r.load();
    await publisher.publish(NAME, { a: 2 });
    const early = r.get();
    const callsBefore = store.calls.getPointer;
    vi.advanceTimersByTime(1_000);
    // Act
    const stale = r.get();
    await vi.waitFor(() => expect(r.get().version).toBe(2));
    // Assess
    expect(early).toBe(first);
    expect(stale).toBe(first);
    expect(store.calls.getPointer - callsBefore).toBe(1);
  });

  it('ready() waits for the refresh that is due', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const r = reader({ maxAgeMs: 1_000, clock: () => Date.now() });
    await r.load();
    await publisher.publish(NAME, { a: 2 });
    vi.setSystemTime(Date.now() + 1_000);
    // Act
    const snapshot = await r.ready();
    // Assess
    expect(snapshot.version).toBe(2);
  });

  it('start() refreshes on a timer for long-running workers', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { a: 1 });
    const r = reader({ maxAgeMs: 1_000 });
    await r.load();
    r.start();
    await publisher.publish(NAME, { a: 2 });
    // Act
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.waitFor(() => expect(r.status().generation).toBe(2));
    r.stop();
    // Assess
    expect(r.get().version).toBe(2);
  });
});

describe('staged rollout', () => {
  it('gives each caller its side of the rollout and the reader its own with get()', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { v: 'stable' });
    await publisher.publish(
      NAME,
      { v: 'canary' },
      { rollout: { percentage: 50, match: { region: ['eu'] } } },
    );
    const r = reader({ caller: { key: 'worker-1', attributes: { region: 'us' } } });
    await r.load();
    // Act
    const sides = Array.from({ length: 200 }, (_, i) =>
      r.getFor({ key: `k${i}`, attributes: { region: 'eu' } }),
    );
    const outsider = r.getFor({ key: 'k1', attributes: { region: 'us' } });
    // Assess
    expect(new Set(sides.map((s) => s.version))).toEqual(new Set([1, 2]));
    expect(outsider.version).toBe(1);
    expect(r.get().version).toBe(1);
  });

  it('moves the candidate to stable on promote without fetching it again', async () => {
    // Prepare
    const { store, publisher, reader } = setup();
    await publisher.publish(NAME, { v: 'stable' });
    await publisher.publish(NAME, { v: 'canary' }, { rollout: { percentage: 10 } });
    const r = reader();
    await r.load();
    const candidate = Array.from({ length: 100 }, (_, i) => r.getFor({ key: `k${i}` })).find(
      (s) => s.version === 2,
    );
    const chunkReads = store.calls.getChunks;
    await publisher.promote(NAME);
    // Act
    const outcome = await r.refresh();
    // Assess
    expect(outcome).toEqual({ status: 'updated', generation: 3, fetched: [] });
    expect(store.calls.getChunks).toBe(chunkReads);
    expect(candidate?.version).toBe(2);
    expect(r.get()).toBe(candidate);
  });
});

describe('first load failures', () => {
  it('answers load() with the last error, without a request, until retryAfterErrorMs passed', async () => {
    // Prepare
    const { store, publisher, reader } = setup();
    let now = 0;
    const r = reader({ retryAfterErrorMs: 1_000, clock: () => now });
    const first = await r.load().catch((error: unknown) => error);
    const reads = store.calls.getPointer;
    // Act
    const again = await r.ready().catch((error: unknown) => error);
    const readsWhileWaiting = store.calls.getPointer - reads;
    await publisher.publish(NAME, { a: 1 });
    now += 1_000;
    const later = await r.ready();
    // Assess
    expect(first).toBeInstanceOf(SnapshotNotFoundError);
    expect(again).toBe(first);
    expect(readsWhileWaiting).toBe(0);
    expect(later.version).toBe(1);
  });
});

describe('options', () => {
  it.each([
    [{ maxAgeMs: -1 }, 'maxAgeMs', -1, 'a number from 0 to 2147483647'],
    [{ maxAgeMs: 3_000_000_000 }, 'maxAgeMs', 3_000_000_000, 'a number from 0 to 2147483647'],
    [{ retryAfterErrorMs: Number.NaN }, 'retryAfterErrorMs', Number.NaN, 'a number from 0 to 2147483647'],
    [{ maxBytes: 0 }, 'maxBytes', 0, 'an integer ≥ 1'],
    [{ name: 'a b' }, 'name', 'a b', 'a snapshot name of 1-64 characters of A-Z a-z 0-9 _ . -'],
    [{ caller: { key: '' } }, 'caller.key', '', 'a non-empty caller key'],
  ])(
    'refuses %o with an InvalidOptionError naming the option and the rule',
    (options, option, value, rule) => {
      // Prepare
      const { reader } = setup();
      // Act
      const create = () => reader(options);
      // Assess
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', owner: 'SnapshotReader', option, value, rule }),
      );
    },
  );

  it('says what it got and what to use instead', () => {
    // Prepare
    const { reader } = setup();
    // Act
    const create = () => reader({ maxAgeMs: -1 });
    // Assess
    expect(create).toThrow('SnapshotReader option maxAgeMs: got -1; use a number from 0 to 2147483647');
  });
});
