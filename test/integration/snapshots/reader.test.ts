import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnknownTableError } from '../../../shared/contract/errors.ts';
import { parsePipelineConfig, routerFor } from '../../../shared/pipeline/config.ts';
import { chunkSortKey, POINTER_SORT_KEY } from '../../../shared/snapshots/store.ts';
import type { Snapshot } from '../../../shared/snapshots/types.ts';
import { type SnapshotFixture, snapshotFixture } from './support.ts';

interface Versioned {
  readonly marker: number;
  readonly entries: ReadonlyArray<{ readonly marker: number; readonly value: string }>;
}

/** A document whose every entry carries the same marker: a mix of two versions would show. */
function versioned(marker: number, entries = 3000): Versioned {
  return {
    marker,
    entries: Array.from({ length: entries }, (_, i) => ({
      marker,
      value: `${(i * 2654435761 + marker) % 1e9}`,
    })),
  };
}

describe('snapshot reader on DynamoDB', () => {
  let fx: SnapshotFixture;
  beforeAll(async () => {
    fx = await snapshotFixture();
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('never shows a mix of versions to a reader polling during publishes', async () => {
    // Prepare: small chunks, so every version spans many items.
    const publisher = fx.publisherWith({ chunkBytes: 2048 });
    await publisher.publish('mix', versioned(1));
    const reader = fx.reader<Versioned>({ name: 'mix', maxAgeMs: 0 });
    await reader.load();
    const seen: Snapshot<Versioned>[] = [];
    let publishing = true;
    const poll = (async () => {
      while (publishing) {
        await reader.refresh();
        seen.push(reader.get());
      }
    })();
    // Act
    for (let marker = 2; marker <= 6; marker++) await publisher.publish('mix', versioned(marker));
    publishing = false;
    await poll;
    await reader.refresh();
    // Assess
    for (const snapshot of seen) {
      expect(snapshot.data.entries.every((e) => e.marker === snapshot.data.marker)).toBe(true);
    }
    const markers = seen.map((s) => s.data.marker);
    expect(new Set(markers).size).toBeGreaterThan(1);
    expect(markers).toEqual([...markers].sort((a, b) => a - b));
    expect(reader.get().data.marker).toBe(6);
  });

  describe('keeps the last good snapshot', () => {
    async function readerAtVersion1(name: string) {
      await fx.publisher.publish(name, { good: 1 });
      const reader = fx.reader({ name });
      const good = await reader.load();
      const { manifest, pointer } = await fx.publisher.publish(name, { good: 2 });
      return { reader, good, manifest, pointer };
    }

    it('when a chunk of the new version was tampered with', async () => {
      // Prepare
      const { reader, good, manifest } = await readerAtVersion1('tampered');
      const key = { pk: { S: 'tampered' }, sk: { S: chunkSortKey(manifest.version, 0) } };
      const { Item } = await fx.client.send(new GetItemCommand({ TableName: fx.tableName, Key: key }));
      const bytes = Uint8Array.from(Item!.b!.B!);
      bytes[bytes.length >> 1]! ^= 0xff;
      await fx.client.send(
        new PutItemCommand({ TableName: fx.tableName, Item: { ...key, b: { B: bytes } } }),
      );
      // Act
      const outcome = await reader.refresh();
      // Assess
      expect(outcome).toMatchObject({ status: 'stale', error: { code: 'CHECKSUM_MISMATCH' } });
      expect(reader.get()).toBe(good);
    });

    it('when a chunk of the new version is missing', async () => {
      // Prepare
      const { reader, good, manifest } = await readerAtVersion1('missing-chunk');
      const key = { pk: { S: 'missing-chunk' }, sk: { S: chunkSortKey(manifest.version, 0) } };
      await fx.client.send(new DeleteItemCommand({ TableName: fx.tableName, Key: key }));
      // Act
      const outcome = await reader.refresh();
      // Assess
      expect(outcome).toMatchObject({ status: 'stale', error: { code: 'MISSING_CHUNK' } });
      expect(reader.get()).toBe(good);
    });

    it('when the pointer names a version that does not exist', async () => {
      // Prepare
      const { reader, good, pointer } = await readerAtVersion1('dangling');
      await fx.client.send(
        new PutItemCommand({
          TableName: fx.tableName,
          Item: {
            pk: { S: 'dangling' },
            sk: { S: POINTER_SORT_KEY },
            name: { S: 'dangling' },
            generation: { N: String(pointer.generation + 1) },
            stable: { N: '999' },
            updatedAt: { S: new Date().toISOString() },
            updatedBy: { S: 'test' },
          },
        }),
      );
      // Act
      const outcome = await reader.refresh();
      // Assess
      expect(outcome).toMatchObject({ status: 'stale', error: { code: 'SNAPSHOT_VERSION_NOT_FOUND' } });
      expect(reader.get()).toBe(good);
      expect(reader.status().lastError?.code).toBe('SNAPSHOT_VERSION_NOT_FOUND');
    });
  });

  it('moves readers back on rollback, as a new pointer generation', async () => {
    // Prepare
    await fx.publisher.publish('rollback', { v: 1 });
    await fx.publisher.publish('rollback', { v: 2 });
    const reader = fx.reader<{ v: number }>({ name: 'rollback' });
    await reader.load();
    // Act
    const pointer = await fx.publisher.rollback('rollback', 1);
    await reader.refresh();
    // Assess
    expect(pointer).toMatchObject({ generation: 3, stable: 1 });
    expect(reader.get().data.v).toBe(1);
    expect(reader.status().generation).toBe(3);
  });

  it('prunes old versions but never the stable or candidate one', async () => {
    // Prepare
    for (let v = 1; v <= 5; v++) await fx.publisher.publish('prune', { v });
    await fx.publisher.rollback('prune', 1);
    await fx.publisher.publish('prune', { v: 6 }, { rollout: { percentage: 10 } });
    // Act
    const deleted = await fx.publisher.prune('prune', 1);
    // Assess
    expect(deleted.sort()).toEqual([2, 3, 4, 5]);
    expect((await fx.store.listManifests('prune')).map((m) => m.version)).toEqual([6, 1]);
    const reader = fx.reader({ name: 'prune' });
    await reader.load();
    expect(reader.status()).toMatchObject({ stableVersion: 1, candidateVersion: 6 });
  });

  it('assigns a staged rollout stably, close to the percentage over 10,000 keys', async () => {
    // Prepare
    await fx.publisher.publish('rollout', { v: 'stable' });
    await fx.publisher.publish('rollout', { v: 'candidate' }, { rollout: { percentage: 20 } });
    const keys = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);
    const first = fx.reader({ name: 'rollout' });
    const second = fx.reader({ name: 'rollout' });
    await Promise.all([first.load(), second.load()]);
    // Act
    const assigned = keys.map((key) => first.getFor({ key }).version);
    const again = keys.map((key) => second.getFor({ key }).version);
    await fx.publisher.promote('rollout', { percentage: 40 });
    await first.refresh();
    const raised = keys.map((key) => first.getFor({ key }).version);
    // Assess
    const share = assigned.filter((v) => v === 2).length / keys.length;
    expect(Math.abs(share - 0.2)).toBeLessThan(0.015);
    expect(again).toEqual(assigned);
    expect(assigned.every((v, i) => v === 1 || raised[i] === 2)).toBe(true);
  });

  it('stops routing a logical table once readers adopt a routing without it', async () => {
    // Prepare
    const route = (tableName: string) => ({ tableName, partitionKey: 'pk', sortKey: 'sk' });
    const config = fx.publisherWith({ validate: parsePipelineConfig });
    await config.publish('pipeline', {
      routing: { items: route('items-table'), audit: route('audit-table') },
    });
    const reader = fx.reader({ name: 'pipeline', parse: parsePipelineConfig });
    await reader.load();
    const message = { op: 'put', table: 'audit', item: { pk: 'a', sk: '1' } } as const;
    const before = routerFor(reader.get().data).toWriteRequest(message);
    await config.update('pipeline', (current) => {
      const { audit: _, ...routing } = (current!.data as { routing: Record<string, unknown> }).routing;
      return { ...(current!.data as object), routing };
    });
    // Act
    await reader.refresh();
    const after = () => routerFor(reader.get().data).toWriteRequest(message);
    // Assess
    expect(before.target.tableName).toBe('audit-table');
    expect(after).toThrow(UnknownTableError);
  });
});
