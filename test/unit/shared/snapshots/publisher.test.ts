import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../../shared/core/options.ts';
import { parsePipelineConfig } from '../../../../shared/pipeline/config.ts';
import {
  InvalidRolloutError,
  InvalidSnapshotDocumentError,
  InvalidSnapshotNameError,
  SnapshotConflictError,
  SnapshotNotFoundError,
  SnapshotTooLargeError,
  SnapshotVersionNotFoundError,
} from '../../../../shared/snapshots/errors.ts';
import { SnapshotPublisher } from '../../../../shared/snapshots/publisher.ts';
import { MemorySnapshotStore } from '../../../support/fakes/memory-snapshot-store.ts';

const NAME = 'app';

function setup(options: Partial<ConstructorParameters<typeof SnapshotPublisher>[0]> = {}) {
  const store = new MemorySnapshotStore();
  const clock = () => new Date('2026-11-26T12:00:00Z');
  return { store, publisher: new SnapshotPublisher({ clock, ...options, store }) };
}

describe('publish', () => {
  it('writes a version and points generation 1 at it', async () => {
    // Prepare
    const { store, publisher } = setup();
    // Act
    const { manifest, pointer } = await publisher.publish(NAME, { a: 1 }, { source: 'test' });
    // Assess
    expect(manifest).toMatchObject({ name: NAME, version: 1, source: 'test', bytes: 7, chunkCount: 1 });
    expect(pointer).toEqual({
      name: NAME,
      generation: 1,
      stable: 1,
      updatedAt: '2026-11-26T12:00:00.000Z',
      updatedBy: 'test',
    });
    expect(store.pointers.get(NAME)).toEqual(pointer);
  });

  it('splits content into chunks of at most chunkBytes', async () => {
    // Prepare
    const { store, publisher } = setup({ chunkBytes: 100 });
    const document = { values: Array.from({ length: 500 }, (_, i) => `${i * 7919}`) };
    // Act
    const { manifest } = await publisher.publish(NAME, document);
    // Assess
    const sizes = [...store.chunks.values()].map((c) => c.length);
    expect(manifest.chunkCount).toBe(Math.ceil(manifest.compressedBytes / 100));
    expect(Math.max(...sizes)).toBe(100);
  });

  it('loses to a publisher that moved the pointer first, and removes its unused version', async () => {
    // Prepare
    const { store, publisher } = setup();
    await publisher.publish(NAME, { a: 1 });
    const base = store.pointers.get(NAME)!;
    await publisher.publish(NAME, { a: 2 }, { basedOn: base });
    // Act
    const late = publisher.publish(NAME, { a: 3 }, { basedOn: base });
    // Assess
    await expect(late).rejects.toMatchObject({
      constructor: SnapshotConflictError,
      code: 'SNAPSHOT_CONFLICT',
      expectedGeneration: 1,
      actualGeneration: 2,
    });
    expect(store.pointers.get(NAME)?.stable).toBe(2);
    expect((await store.listManifests(NAME)).map((m) => m.version)).toEqual([2, 1]);
  });

  it('never writes a document its schema rejects', async () => {
    // Prepare
    const { store, publisher } = setup({ validate: parsePipelineConfig });
    // Act
    const publish = publisher.publish(NAME, { routing: { items: { tableName: 'x', partitionKey: 'pk' } } });
    // Assess
    await expect(publish).rejects.toThrow(InvalidSnapshotDocumentError);
    await expect(publish).rejects.toThrow(/routing\.items\.tableName/);
    expect(store.calls.allocateVersion).toBe(0);
    expect(store.manifests.size).toBe(0);
  });

  it('refuses a document over the size limit before writing anything', async () => {
    // Prepare
    const { store, publisher } = setup({ maxBytes: 1000 });
    // Act
    const publish = publisher.publish(NAME, { blob: 'x'.repeat(2000) });
    // Assess
    await expect(publish).rejects.toMatchObject({ constructor: SnapshotTooLargeError, limit: 1000 });
    expect(store.calls.putVersion).toBe(0);
  });

  it('refuses a name that cannot be a partition key', async () => {
    // Prepare
    const { publisher } = setup();
    // Act
    const publish = publisher.publish('no spaces', {});
    // Assess
    await expect(publish).rejects.toBeInstanceOf(InvalidSnapshotNameError);
  });
});

describe('staged rollout', () => {
  it('publishes a candidate beside the stable version', async () => {
    // Prepare
    const { publisher } = setup();
    await publisher.publish(NAME, { a: 1 });
    // Act
    const { pointer } = await publisher.publish(
      NAME,
      { a: 2 },
      { rollout: { percentage: 12.5, match: { region: ['eu'] } } },
    );
    // Assess
    expect(pointer).toMatchObject({
      generation: 2,
      stable: 1,
      candidate: { version: 2, percentage: 12.5, match: { region: ['eu'] } },
    });
  });

  it('needs a stable version to roll out beside', async () => {
    // Prepare
    const { publisher } = setup();
    // Act
    const publish = publisher.publish(NAME, { a: 1 }, { rollout: { percentage: 10 } });
    // Assess
    await expect(publish).rejects.toBeInstanceOf(InvalidRolloutError);
  });

  it.each([-1, 101, 10.001, Number.NaN])('refuses percentage %s', async (percentage) => {
    // Prepare
    const { publisher } = setup();
    await publisher.publish(NAME, { a: 1 });
    // Act
    const publish = publisher.publish(NAME, { a: 2 }, { rollout: { percentage } });
    // Assess
    await expect(publish).rejects.toBeInstanceOf(InvalidRolloutError);
  });

  it('promote raises the percentage, then makes the candidate stable', async () => {
    // Prepare
    const { publisher } = setup();
    await publisher.publish(NAME, { a: 1 });
    await publisher.publish(NAME, { a: 2 }, { rollout: { percentage: 10 } });
    // Act
    const raised = await publisher.promote(NAME, { percentage: 50 });
    const promoted = await publisher.promote(NAME);
    // Assess
    expect(raised).toMatchObject({ generation: 3, stable: 1, candidate: { version: 2, percentage: 50 } });
    expect(promoted).toMatchObject({ generation: 4, stable: 2 });
    expect(promoted.candidate).toBeUndefined();
  });

  it('promote needs a candidate', async () => {
    // Prepare
    const { publisher } = setup();
    await publisher.publish(NAME, { a: 1 });
    // Act
    const promote = publisher.promote(NAME);
    // Assess
    await expect(promote).rejects.toThrow(/no candidate/);
  });
});

describe('rollback', () => {
  it('points everyone at an earlier version with a new generation', async () => {
    // Prepare
    const { publisher } = setup();
    await publisher.publish(NAME, { a: 1 });
    await publisher.publish(NAME, { a: 2 }, { rollout: { percentage: 5 } });
    // Act
    const pointer = await publisher.rollback(NAME, 1);
    // Assess
    expect(pointer).toMatchObject({ generation: 3, stable: 1 });
    expect(pointer.candidate).toBeUndefined();
  });

  it('refuses an unknown version, and a name never published', async () => {
    // Prepare
    const { publisher } = setup();
    const never = await publisher.rollback(NAME, 1).catch((error: unknown) => error);
    await publisher.publish(NAME, { a: 1 });
    // Act
    const unknown = publisher.rollback(NAME, 7);
    // Assess
    expect(never).toBeInstanceOf(SnapshotNotFoundError);
    await expect(unknown).rejects.toMatchObject({ constructor: SnapshotVersionNotFoundError, version: 7 });
  });
});

describe('prune', () => {
  it('keeps the newest n versions plus the stable and candidate ones', async () => {
    // Prepare
    const { store, publisher } = setup();
    for (let i = 1; i <= 6; i++) await publisher.publish(NAME, { i });
    await publisher.rollback(NAME, 2);
    await publisher.publish(NAME, { i: 7 }, { rollout: { percentage: 1 } });
    await publisher.rollback(NAME, 2);
    await publisher.publish(NAME, { i: 8 }, { rollout: { percentage: 1 } });
    // stable 2, candidate 8; versions 1-8
    // Act
    const deleted = await publisher.prune(NAME, 2);
    // Assess
    expect(deleted.sort()).toEqual([1, 3, 4, 5, 6]);
    expect((await store.listManifests(NAME)).map((m) => m.version)).toEqual([8, 7, 2]);
    expect(store.versionsWithChunks(NAME)).toEqual([8, 7, 2]);
  });
});

describe('update', () => {
  it('rebases on the winner and re-applies the change when another publisher got in first', async () => {
    // Prepare
    const { store, publisher } = setup();
    await publisher.publish(NAME, { a: 1 });
    let raced = false;
    store.beforeResolve = async (method) => {
      if (method === 'swapPointer' && !raced) {
        raced = true;
        const rival = new SnapshotPublisher({ store });
        store.beforeResolve = undefined;
        await rival.publish(NAME, { a: 1, rival: true }, { basedOn: store.pointers.get(NAME)! });
      }
    };
    // Act
    const result = await publisher.update(NAME, (current) => ({ ...(current?.data as object), mine: true }), {
      baseDelayMs: 1,
    });
    const { data } = await publisher.read(NAME);
    // Assess
    expect(result?.pointer.generation).toBe(3);
    expect(data).toEqual({ a: 1, rival: true, mine: true });
  });

  it('gives up with the conflict after maxAttempts', async () => {
    // Prepare
    const { store, publisher } = setup();
    await publisher.publish(NAME, { n: 0 });
    let n = 0;
    store.beforeResolve = async (method) => {
      if (method !== 'swapPointer') return;
      const pointer = store.pointers.get(NAME)!;
      store.pointers.set(NAME, { ...pointer, generation: pointer.generation + 1 });
      n++;
    };
    // Act
    const update = publisher.update(NAME, () => ({ n: 1 }), { maxAttempts: 3, baseDelayMs: 1 });
    // Assess
    await expect(update).rejects.toBeInstanceOf(SnapshotConflictError);
    expect(n).toBe(3);
  });

  it('publishes nothing when the change returns undefined', async () => {
    // Prepare
    const { store, publisher } = setup();
    await publisher.publish(NAME, { a: 1 });
    // Act
    const result = await publisher.update(NAME, () => undefined);
    // Assess
    expect(result).toBeUndefined();
    expect(store.pointers.get(NAME)?.generation).toBe(1);
  });
});

describe('options', () => {
  it.each([
    [{ chunkBytes: 0 }, 'chunkBytes', 0, 'an integer from 1 to 400000'],
    [{ chunkBytes: 500_000 }, 'chunkBytes', 500_000, 'an integer from 1 to 400000'],
    [{ maxBytes: 1.5 }, 'maxBytes', 1.5, 'an integer ≥ 1'],
    [{ schemaVersion: 0 }, 'schemaVersion', 0, 'an integer ≥ 1'],
    [{ compression: 'zip' as 'br' }, 'compression', 'zip', "'br' or 'gzip'"],
  ])(
    'refuses %o with an InvalidOptionError naming the option and the rule',
    (options, option, value, rule) => {
      // Act
      const create = () => setup(options);
      // Assess
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', owner: 'SnapshotPublisher', option, value, rule }),
      );
    },
  );

  it('refuses a prune keep that is not a whole number ≥ 0, naming keep (not a rollout error)', async () => {
    // Prepare
    const { publisher } = setup();
    // Act
    const prune = publisher.prune(NAME, -1);
    // Assess
    await expect(prune).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(prune).rejects.toThrow('SnapshotPublisher.prune option keep: got -1; use an integer ≥ 0');
  });

  it('refuses update retry settings out of range before reading anything', async () => {
    // Prepare
    const { publisher } = setup();
    // Act
    const update = publisher.update(NAME, () => ({ a: 1 }), { maxAttempts: 0 });
    // Assess
    await expect(update).rejects.toThrow(
      expect.objectContaining({ owner: 'SnapshotPublisher.update', option: 'maxAttempts', value: 0 }),
    );
  });
});
