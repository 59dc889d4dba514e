import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { type SnapshotContext, snapshotMiddleware } from '../../../../shared/snapshots/middleware.ts';
import { SnapshotPublisher } from '../../../../shared/snapshots/publisher.ts';
import { SnapshotReader } from '../../../../shared/snapshots/reader.ts';
import type { Snapshot } from '../../../../shared/snapshots/types.ts';
import { MemorySnapshotStore } from '../../../support/fakes/memory-snapshot-store.ts';

const NAME = 'app';

/** A Lambda context, typed as the handler sees it once the middleware ran. */
function lambdaContext<T>(): SnapshotContext<T> {
  return {
    functionName: 'test',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => 30_000,
  } as unknown as SnapshotContext<T>;
}

function setup(maxAgeMs = 60_000) {
  const store = new MemorySnapshotStore();
  let now = 0;
  const reader = new SnapshotReader<{ v: number }>({ store, name: NAME, maxAgeMs, clock: () => now });
  return {
    store,
    publisher: new SnapshotPublisher({ store }),
    reader,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('snapshotMiddleware', () => {
  it('hands the handler the current snapshot on context.snapshot', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { v: 1 });
    const handler = middy(
      async (_event: unknown, context: SnapshotContext<{ v: number }>) => context.snapshot,
    ).use(snapshotMiddleware({ reader }));
    // Act
    const seen = (await handler({}, lambdaContext())) as Snapshot<{ v: number }>;
    // Assess
    expect(seen.data.v).toBe(1);
    expect(seen).toBe(reader.get());
  });

  it('refreshes before the handler once the snapshot is past max age', async () => {
    // Prepare
    const { publisher, reader, advance } = setup(1_000);
    await publisher.publish(NAME, { v: 1 });
    const handler = middy(
      async (_event: unknown, context: SnapshotContext<{ v: number }>) => context.snapshot.data.v,
    ).use(snapshotMiddleware({ reader }));
    await handler({}, lambdaContext());
    await publisher.publish(NAME, { v: 2 });
    const fresh = await handler({}, lambdaContext());
    advance(1_000);
    // Act
    const after = await handler({}, lambdaContext());
    // Assess
    expect(fresh).toBe(1);
    expect(after).toBe(2);
  });

  it('fails the invocation when the first load fails', async () => {
    // Prepare
    const { reader } = setup();
    let ran = false;
    const handler = middy(async () => {
      ran = true;
    }).use(snapshotMiddleware({ reader }));
    // Act
    const invoke = handler({}, lambdaContext());
    // Assess
    await expect(invoke).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    expect(ran).toBe(false);
  });

  it('picks the rollout side of the caller the request names', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { v: 1 });
    await publisher.publish(NAME, { v: 2 }, { rollout: { percentage: 100, match: { tenant: ['beta'] } } });
    const handler = middy(
      async (_event: { tenant: string }, context: SnapshotContext<{ v: number }>) => context.snapshot.data.v,
    ).use(
      snapshotMiddleware<{ v: number }, { tenant: string }>({
        reader,
        caller: ({ event }) => ({ key: event.tenant, attributes: { tenant: event.tenant } }),
      }),
    );
    // Act
    const beta = await handler({ tenant: 'beta' }, lambdaContext());
    const other = await handler({ tenant: 'acme' }, lambdaContext());
    // Assess
    expect([beta, other]).toEqual([2, 1]);
  });

  it('takes the snapshot off the context when the handler is done, also on error', async () => {
    // Prepare
    const { publisher, reader } = setup();
    await publisher.publish(NAME, { v: 1 });
    const context = lambdaContext<unknown>();
    const ok = middy(async () => 'ok').use(snapshotMiddleware({ reader }));
    const failing = middy(async () => {
      throw new Error('boom');
    }).use(snapshotMiddleware({ reader }));
    // Act
    await ok({}, context);
    const afterOk = 'snapshot' in context;
    await failing({}, context).catch(() => undefined);
    // Assess
    expect(afterOk).toBe(false);
    expect('snapshot' in context).toBe(false);
  });
});
