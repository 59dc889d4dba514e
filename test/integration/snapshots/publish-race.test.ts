import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotConflictError } from '../../../shared/snapshots/errors.ts';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { type SnapshotFixture, snapshotFixture } from './support.ts';

const PUBLISHERS = 8;

describe('racing publishers on DynamoDB', () => {
  let fx: SnapshotFixture;
  beforeAll(async () => {
    fx = await snapshotFixture();
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('lets exactly one of N publishers based on the same pointer win; the others get a conflict', async () => {
    // Prepare
    await fx.publisher.publish('race', { base: true });
    const base = (await fx.store.getPointer('race'))!;
    const publishers = Array.from({ length: PUBLISHERS }, () => new SnapshotPublisher({ store: fx.store }));
    // Act
    const results = await Promise.allSettled(
      publishers.map((p, i) => p.publish('race', { winner: i }, { basedOn: base })),
    );
    // Assess
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.every((r) => r.reason instanceof SnapshotConflictError)).toBe(true);
    const pointer = await fx.store.getPointer('race');
    expect(pointer?.generation).toBe(base.generation + 1);
    // The losers' versions were removed again: only the base and the winner remain.
    expect((await fx.store.listManifests('race')).map((m) => m.version)).toEqual([
      pointer!.stable,
      base.stable,
    ]);
  });

  it('loses no update when racing publishers rebase and retry', async () => {
    // Prepare
    await fx.publisher.publish('counter', {});
    const publishers = Array.from({ length: PUBLISHERS }, () => new SnapshotPublisher({ store: fx.store }));
    // Act
    await Promise.all(
      publishers.map((p, i) =>
        p.update('counter', (current) => ({ ...(current?.data as object), [`p${i}`]: true }), {
          maxAttempts: 3 * PUBLISHERS,
          baseDelayMs: 20,
        }),
      ),
    );
    // Assess
    const { data, pointer } = await fx.publisher.read('counter');
    expect(Object.keys(data as object).sort()).toEqual(publishers.map((_, i) => `p${i}`).sort());
    expect(pointer?.generation).toBe(1 + PUBLISHERS);
  });
});
