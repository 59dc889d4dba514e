import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../../shared/core/options.ts';
import { WriteBatcherClosedError } from '../../../../shared/write-batcher/errors.ts';
import { WriteBatcher } from '../../../../shared/write-batcher/write-batcher.ts';
import { del, itemsTarget, put } from '../../../support/factories/writes.ts';
import { awsError, InMemoryDynamoDb } from '../../../support/fakes/in-memory-dynamodb.ts';

const soon = () => ({ deadline: { at: Date.now() + 5_000 } });
const table = itemsTarget.tableName;

function setup(options: { maxConcurrency?: number; adaptiveConcurrency?: boolean } = {}) {
  const db = new InMemoryDynamoDb();
  const batcher = new WriteBatcher({ client: db.client, baseDelayMs: 1, maxDelayMs: 5, ...options });
  return { db, batcher };
}

describe('WriteBatcher.writeAll', () => {
  it('writes 60 distinct items in 3 BatchWriteItem calls', async () => {
    // Prepare
    const { db, batcher } = setup();
    const requests = Array.from({ length: 60 }, (_, i) => put(`k${i}`, { i }));
    // Act
    const { outcomes, stats } = await batcher.writeAll(requests, soon());
    // Assess
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect(db.calls.map((c) => c.items)).toEqual([25, 25, 10]);
    expect(stats.batchRequests).toBe(3);
    expect(db.item(table, 'k59')).toMatchObject({ i: 59 });
  });

  it('reports superseded writes as coalesced, sharing the outcome of the write that replaced them', async () => {
    const { db, batcher } = setup();
    const { outcomes, stats } = await batcher.writeAll([put('a', { n: 1 }), put('a', { n: 2 })], soon());
    expect(outcomes[0]).toEqual({ status: 'coalesced', supersededBy: 1, final: { status: 'written' } });
    expect(outcomes[1]).toEqual({ status: 'written' });
    expect(stats.coalesced).toBe(1);
    expect(db.item(table, 'a')).toMatchObject({ n: 2 });
  });

  it('retries unprocessed items until all are written', async () => {
    const { db, batcher } = setup();
    let faults = 2;
    db.fault = () => (faults-- > 0 ? 'unprocessed-half' : undefined);
    const { outcomes, stats } = await batcher.writeAll(
      Array.from({ length: 10 }, (_, i) => put(`k${i}`)),
      soon(),
    );
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect(stats.unprocessedRetried).toBe(5 + 2);
    expect(db.tables.get(table)?.size).toBe(10);
  });

  it('repacks the unprocessed items of every request in flight into full requests', async () => {
    // Prepare: every request leaves half its items unprocessed
    const { db, batcher } = setup();
    db.fault = () => 'unprocessed-half';
    const requests = Array.from({ length: 100 }, (_, i) => put(`k${i}`, { i }));
    // Act
    const { outcomes, stats } = await batcher.writeAll(requests, soon());
    // Assess: about 100 + 50 + 25 + 12 + 6 + 3 + 1 writes sent. Retried chunk by chunk that takes
    // 4 × 7 requests; repacked, at most 8 full ones plus one partial per wave (7 waves at most).
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect(db.tables.get(table)?.size).toBe(100);
    const sent = db.calls.reduce((sum, c) => sum + c.items, 0);
    expect(stats.unprocessedRetried).toBe(sent - 100);
    expect(db.calls.length).toBeLessThanOrEqual(Math.ceil(sent / 25) + 7);
    expect(db.calls.length).toBeLessThan(4 * 7);
  });

  it('retries throttling and 5xx errors with backoff and counts them', async () => {
    const { db, batcher } = setup();
    const faults = [awsError('ProvisionedThroughputExceededException'), awsError('InternalServerError', 500)];
    db.fault = () => faults.shift();
    const { outcomes, stats } = await batcher.writeAll([put('a')], soon());
    expect(outcomes[0]).toEqual({ status: 'written' });
    expect(stats.throttles).toBe(1);
    expect(stats.transientErrors).toBe(1);
  });

  it('reports writes still throttled at the deadline as retryable instead of running past it', async () => {
    const { db, batcher } = setup();
    db.fault = () => awsError('ThrottlingException');
    const { outcomes } = await batcher.writeAll([put('a'), put('b')], { deadline: { at: Date.now() + 50 } });
    expect(outcomes.map((o) => o.status)).toEqual(['retryable', 'retryable']);
    expect(outcomes[0]).toMatchObject({ reason: 'deadline' });
  });

  it('isolates the one item DynamoDB rejects with a ValidationException', async () => {
    const { db, batcher } = setup();
    db.fault = (command) => {
      const items = Object.values(
        (command.input as { RequestItems?: Record<string, unknown[]> }).RequestItems ?? {},
      ).flat();
      return JSON.stringify(items).includes('"bad"') ? awsError('ValidationException') : undefined;
    };
    const requests = Array.from({ length: 8 }, (_, i) => put(i === 5 ? 'bad' : `k${i}`));
    const { outcomes } = await batcher.writeAll(requests, soon());
    expect(outcomes[5]).toMatchObject({ status: 'rejected' });
    expect(outcomes.filter((o) => o.status === 'written')).toHaveLength(7);
  });

  it('skips a version-guarded write when the stored version is equal or higher (stale is success)', async () => {
    const { db, batcher } = setup();
    await batcher.writeAll([put('a', { n: 5 }, { version: 5 })], soon());
    const { outcomes, stats } = await batcher.writeAll(
      [put('a', { n: 4 }, { version: 4 }), put('b', {}, { version: 1 })],
      soon(),
    );
    expect(outcomes[0]).toEqual({ status: 'stale', incomingVersion: 4, storedVersion: 5 });
    expect(outcomes[1]).toEqual({ status: 'written' });
    expect(stats.stale).toBe(1);
    expect(db.item(table, 'a')).toMatchObject({ n: 5, _version: 5 });
  });

  it('sends version-guarded writes as transactions of up to 100 conditional puts', async () => {
    const { db, batcher } = setup();
    const requests = Array.from({ length: 250 }, (_, i) => put(`k${i}`, { i }, { version: 1 }));
    const { outcomes, stats } = await batcher.writeAll(requests, soon());
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect(db.calls.map((c) => `${c.name} ${c.items}`)).toEqual([
      'TransactWriteItems 100',
      'TransactWriteItems 100',
      'TransactWriteItems 50',
    ]);
    expect(stats.conditionalRequests).toBe(3);
    expect(db.item(table, 'k249')).toMatchObject({ i: 249, _version: 1 });
  });

  it('settles the stale writes of a cancelled transaction and sends the others again at once', async () => {
    // Prepare: every third key already holds a higher version
    const { db, batcher } = setup();
    const keys = Array.from({ length: 120 }, (_, i) => `k${i}`);
    await batcher.writeAll(
      keys.filter((_, i) => i % 3 === 0).map((k) => put(k, { old: true }, { version: 9 })),
      soon(),
    );
    db.calls.length = 0;
    // Act
    const { outcomes, stats } = await batcher.writeAll(
      keys.map((k) => put(k, { old: false }, { version: 5 })),
      soon(),
    );
    // Assess: stale where the stored version is higher, written elsewhere; each transaction at most twice
    expect(outcomes.map((o) => o.status)).toEqual(keys.map((_, i) => (i % 3 === 0 ? 'stale' : 'written')));
    expect(stats).toMatchObject({ stale: 40, written: 80, staleVersionLag: 4 });
    expect(outcomes[0]).toEqual({ status: 'stale', incomingVersion: 5, storedVersion: 9 });
    expect(db.item(table, 'k0')).toMatchObject({ old: true, _version: 9 });
    expect(db.item(table, 'k1')).toMatchObject({ old: false, _version: 5 });
    expect(db.calls.length).toBeLessThanOrEqual(4);
  });

  it("sends one conditional PutItem per version-guarded write with versionedWrites: 'conditional-put'", async () => {
    const db = new InMemoryDynamoDb();
    const batcher = new WriteBatcher({ client: db.client, versionedWrites: 'conditional-put' });
    await batcher.writeAll([put('a', { n: 2 }, { version: 2 })], soon());
    const { outcomes } = await batcher.writeAll(
      [put('a', { n: 1 }, { version: 1 }), put('b', {}, { version: 1 })],
      soon(),
    );
    expect(outcomes).toEqual([
      { status: 'stale', incomingVersion: 1, storedVersion: 2 },
      { status: 'written' },
    ]);
    expect(db.calls.map((c) => c.name)).toEqual(['PutItem', 'PutItem', 'PutItem']);
    expect(db.item(table, 'a')).toMatchObject({ n: 2 });
  });

  it('keeps a versioned delete as a tombstone so an older put cannot resurrect the item', async () => {
    const { db, batcher } = setup();
    await batcher.writeAll([del('a', { version: 7 })], soon());
    const { outcomes } = await batcher.writeAll([put('a', {}, { version: 6 })], soon());
    expect(outcomes[0]).toEqual({
      status: 'stale',
      incomingVersion: 6,
      storedVersion: 7,
      storedDeleted: true,
    });
    expect(db.item(table, 'a')).toMatchObject({ _deleted: true, _version: 7 });
  });

  it('stores versions and tombstones under the attribute names and TTL it is given', async () => {
    // Prepare
    const db = new InMemoryDynamoDb();
    const batcher = new WriteBatcher({
      client: db.client,
      versionAttribute: 'rev',
      deletedAttribute: 'gone',
      ttlAttribute: 'expiresAt',
      tombstoneTtlDays: 2,
    });
    const nowSeconds = Math.floor(Date.now() / 1000);
    await batcher.writeAll([put('a', {}, { version: 3 }), del('b', { version: 7 })], soon());
    // Act
    const { outcomes } = await batcher.writeAll(
      [put('a', {}, { version: 2 }), put('b', {}, { version: 6 })],
      soon(),
    );
    // Assess
    expect(outcomes).toEqual([
      { status: 'stale', incomingVersion: 2, storedVersion: 3 },
      { status: 'stale', incomingVersion: 6, storedVersion: 7, storedDeleted: true },
    ]);
    expect(db.item(table, 'a')).toEqual({ pk: 'a', sk: '1', rev: 3 });
    const tombstone = db.item(table, 'b')!;
    expect(tombstone).toMatchObject({ pk: 'b', sk: '1', rev: 7, gone: true });
    expect(Object.keys(tombstone).sort()).toEqual(['expiresAt', 'gone', 'pk', 'rev', 'sk']);
    expect(tombstone.expiresAt).toBeGreaterThanOrEqual(nowSeconds + 2 * 86_400);
    expect(tombstone.expiresAt).toBeLessThan(nowSeconds + 2 * 86_400 + 60);
  });

  it.each([
    [{ maxConcurrency: 0 }, 'maxConcurrency', 0, 'an integer from 1 to 256'],
    [{ maxBatchSize: 2.5 }, 'maxBatchSize', 2.5, 'an integer ≥ 1'],
    [{ baseDelayMs: -1 }, 'baseDelayMs', -1, 'a number > 0'],
    [{ flushDelayMs: -1 }, 'flushDelayMs', -1, 'a number ≥ 0'],
    [{ versionAttribute: '' }, 'versionAttribute', '', 'a non-empty attribute name'],
    [{ tombstoneTtlDays: 0 }, 'tombstoneTtlDays', 0, 'a number > 0'],
    [{ versionedWrites: 'fast' }, 'versionedWrites', 'fast', "'transaction' or 'conditional-put'"],
    [{ consumedCapacity: 'always' }, 'consumedCapacity', 'always', "'computed', 'dynamodb' or 'off'"],
  ])(
    'refuses %o with an InvalidOptionError naming the option and the rule',
    (options, option, value, rule) => {
      // Prepare
      const { client } = new InMemoryDynamoDb();
      // Act
      // A JavaScript caller can pass anything: the options are checked at run time.
      const create = () => new WriteBatcher({ client, ...(options as object) });
      // Assess
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', owner: 'WriteBatcher', option, value, rule }),
      );
    },
  );

  it('says what it got and what to use instead', () => {
    const { client } = new InMemoryDynamoDb();
    expect(() => new WriteBatcher({ client, maxConcurrency: 0 })).toThrow(
      'WriteBatcher option maxConcurrency: got 0; use an integer from 1 to 256',
    );
  });

  it('reports a missing table as a retryable error without retrying it until the deadline', async () => {
    const { db, batcher } = setup();
    db.fault = () => awsError('ResourceNotFoundException');
    const { outcomes } = await batcher.writeAll([put('a')], soon());
    expect(outcomes[0]).toMatchObject({ status: 'retryable', reason: 'error' });
    expect(db.calls).toHaveLength(1);
  });

  it('rejects writes to a table IAM refuses with ACCESS_DENIED at once, and still writes the other tables of the request', async () => {
    // Prepare
    const { db, batcher } = setup();
    const orders = { ...itemsTarget, tableName: 'orders-physical' };
    db.fault = (command) => {
      const input = command.input as { RequestItems?: Record<string, unknown>; TableName?: string };
      const tables = input.RequestItems ? Object.keys(input.RequestItems) : [input.TableName];
      return tables.includes(orders.tableName) ? awsError('AccessDeniedException') : undefined;
    };
    const requests = [
      put('a'),
      put('b', {}, { target: orders }),
      put('c', {}, { target: orders, version: 2 }),
    ];
    // Act
    const { outcomes, stats } = await batcher.writeAll(requests, soon());
    // Assess
    expect(outcomes[0]).toEqual({ status: 'written' });
    for (const outcome of outcomes.slice(1)) {
      expect(outcome).toMatchObject({ status: 'rejected', error: { code: 'ACCESS_DENIED' } });
      expect(outcome.status === 'rejected' && outcome.error.message).toMatch(/orders-physical/);
    }
    expect(stats.rejected).toBe(2);
    expect(db.item(table, 'a')).toBeDefined();
    // One mixed request, then one per table, and the guarded put's transaction once: no retries.
    expect(db.calls.map((c) => c.name).sort()).toEqual([
      'BatchWriteItem',
      'BatchWriteItem',
      'BatchWriteItem',
      'TransactWriteItems',
    ]);
  });

  it('keeps authentication failures retryable: they concern the credentials, not the write', async () => {
    // Prepare
    const { db, batcher } = setup();
    db.fault = () => awsError('UnrecognizedClientException');
    // Act
    const { outcomes } = await batcher.writeAll([put('a')], soon());
    // Assess
    expect(outcomes[0]).toMatchObject({ status: 'retryable', reason: 'error' });
  });

  it('never has more requests in flight than maxConcurrency', async () => {
    const { db, batcher } = setup({ maxConcurrency: 2 });
    let inFlight = 0;
    let peak = 0;
    const send = db.send.bind(db);
    db.send = async (command) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      try {
        return await send(command);
      } finally {
        inFlight--;
      }
    };
    await batcher.writeAll(
      Array.from({ length: 200 }, (_, i) => put(`k${i}`, {}, { version: i % 3 === 0 ? 1 : undefined })),
      soon(),
    );
    expect(peak).toBe(2);
  });

  /** Counts the requests in flight as each call starts, 2 ms per call. */
  function tracked(db: InMemoryDynamoDb): number[] {
    const atStart: number[] = [];
    let inFlight = 0;
    const send = db.send.bind(db);
    db.send = async (command) => {
      atStart.push(++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      try {
        return await send(command);
      } finally {
        inFlight--;
      }
    };
    return atStart;
  }

  it('halves the requests in flight to a table each time it throttles, down to one at a time', async () => {
    // Prepare: the first 8 calls throttled
    const { db, batcher } = setup({ maxConcurrency: 8 });
    const atStart = tracked(db);
    db.fault = (_, call) => (call <= 8 ? awsError('ProvisionedThroughputExceededException') : undefined);
    // Act
    const { outcomes } = await batcher.writeAll(
      Array.from({ length: 200 }, (_, i) => put(`k${i}`)),
      soon(),
    );
    // Assess: 4 at first; 2 after the first throttle; then 1 (calls 7 and 8 go alone)
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect(Math.max(...atStart.slice(0, 4))).toBe(4);
    expect(atStart.slice(6, 8)).toEqual([1, 1]);
  });

  it('takes a transaction cancelled with ThrottlingError reasons for a throttle of its table', async () => {
    // Prepare: 10 transactions of 100 version-guarded puts; the first 8 calls cancelled for throughput
    const { db, batcher } = setup({ maxConcurrency: 8 });
    const atStart = tracked(db);
    db.fault = (_, call) => (call <= 8 ? awsError('ThrottlingException') : undefined);
    // Act
    const { outcomes } = await batcher.writeAll(
      Array.from({ length: 1_000 }, (_, i) => put(`k${i}`, {}, { version: 1 })),
      soon(),
    );
    // Assess
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect(Math.max(...atStart.slice(0, 4))).toBe(4);
    expect(atStart.slice(6, 8)).toEqual([1, 1]);
  });

  it('sends maxConcurrency requests at once from the start with adaptiveConcurrency false', async () => {
    const { db, batcher } = setup({ maxConcurrency: 8, adaptiveConcurrency: false });
    const atStart = tracked(db);
    await batcher.writeAll(
      Array.from({ length: 200 }, (_, i) => put(`k${i}`)),
      soon(),
    );
    expect(Math.max(...atStart)).toBe(8);
  });
});

describe.each(['transaction', 'conditional-put'] as const)(
  'WriteBatcher stale outcomes (%s)',
  (versionedWrites) => {
    function setupStale() {
      const db = new InMemoryDynamoDb();
      const batcher = new WriteBatcher({ client: db.client, versionedWrites, baseDelayMs: 1, maxDelayMs: 5 });
      return { db, batcher };
    }

    it('asks DynamoDB for the stored item on a failed condition (ALL_OLD) and keeps only its version', async () => {
      // Prepare
      const { db, batcher } = setupStale();
      const asked: unknown[] = [];
      const send = db.send.bind(db);
      db.send = (command) => {
        const { input } = command as { input: { TransactItems?: { Put?: object }[] } };
        for (const put of input.TransactItems?.map((action) => action.Put) ?? [input]) {
          asked.push(
            (put as { ReturnValuesOnConditionCheckFailure?: string }).ReturnValuesOnConditionCheckFailure,
          );
        }
        return send(command);
      };
      await batcher.writeAll([put('a', { secret: 'stored payload' }, { version: 3 })], soon());
      // Act
      const { outcomes } = await batcher.writeAll(
        [put('a', { secret: 'new payload' }, { version: 2 })],
        soon(),
      );
      // Assess: no stored attribute besides the version reaches the outcome
      expect(asked).toEqual(['ALL_OLD', 'ALL_OLD']);
      expect(outcomes[0]).toEqual({ status: 'stale', incomingVersion: 2, storedVersion: 3 });
      expect(JSON.stringify(outcomes)).not.toContain('payload');
    });

    it('reports the largest stored − incoming version gap of a call as staleVersionLag', async () => {
      // Prepare
      const { batcher } = setupStale();
      await batcher.writeAll([put('a', {}, { version: 10 }), put('b', {}, { version: 4 })], soon());
      // Act: a is 7 behind, b repeats the stored version (a redelivery)
      const behind = await batcher.writeAll(
        [put('a', {}, { version: 3 }), put('b', {}, { version: 4 })],
        soon(),
      );
      const repeated = await batcher.writeAll([put('b', {}, { version: 4 })], soon());
      // Assess
      expect(behind.stats).toMatchObject({ stale: 2, staleVersionLag: 7 });
      expect(repeated.stats).toMatchObject({ stale: 1, staleVersionLag: 0 });
    });

    it('is still stale, without a stored version, when DynamoDB returns no item', async () => {
      // Prepare: an answer without the stored item (as from an endpoint that ignores ALL_OLD)
      const { db, batcher } = setupStale();
      await batcher.writeAll([put('a', {}, { version: 3 })], soon());
      const send = db.send.bind(db);
      db.send = async (command) => {
        try {
          return await send(command);
        } catch (error) {
          const failed = error as { Item?: unknown; CancellationReasons?: { Item?: unknown }[] };
          delete failed.Item;
          for (const reason of failed.CancellationReasons ?? []) delete reason.Item;
          throw error;
        }
      };
      // Act
      const { outcomes, stats } = await batcher.writeAll([put('a', {}, { version: 2 })], soon());
      // Assess
      expect(outcomes[0]).toEqual({ status: 'stale', incomingVersion: 2 });
      expect(stats).toMatchObject({ stale: 1, staleVersionLag: 0 });
    });
  },
);

describe('WriteBatcher consumed capacity', () => {
  function recording() {
    const db = new InMemoryDynamoDb();
    const asked: unknown[] = [];
    const send = db.send.bind(db);
    db.send = (command) => {
      asked.push((command as { input: { ReturnConsumedCapacity?: string } }).input.ReturnConsumedCapacity);
      return send(command);
    };
    return { db, asked };
  }

  it('computes write units from item sizes by default without asking DynamoDB', async () => {
    // Prepare: 1 unit per started KB, at least 1, twice that in a transaction (version-guarded
    // writes); a failed version guard costs its units too
    const { db, asked } = recording();
    const batcher = new WriteBatcher({ client: db.client });
    const requests = [
      put('small', { s: 'x' }),
      put('big', { s: 'x'.repeat(2_500) }),
      del('gone'),
      put('v', { s: 'y' }, { version: 1 }),
    ];
    // Act
    const first = await batcher.writeAll(requests, soon());
    const stale = await batcher.writeAll([put('v', { s: 'y' }, { version: 1 })], soon());
    // Assess
    expect(asked.every((value) => value === 'NONE')).toBe(true);
    expect(first.stats.consumedWriteCapacity).toBe(1 + 3 + 1 + 2);
    expect(stale.outcomes[0]).toMatchObject({ status: 'stale' });
    expect(stale.stats.consumedWriteCapacity).toBe(1);
  });

  it('asks for INDEXES only for tables with indexes, TOTAL with consumedCapacity dynamodb, nothing when off', async () => {
    const { db, asked } = recording();
    const indexed = { ...itemsTarget, indexes: true };
    const computed = await new WriteBatcher({ client: db.client }).writeAll(
      [{ op: 'put', target: indexed, item: { pk: 'i', sk: '1' } }],
      soon(),
    );
    const exact = await new WriteBatcher({ client: db.client, consumedCapacity: 'dynamodb' }).writeAll(
      [put('a'), put('b')],
      soon(),
    );
    const off = await new WriteBatcher({ client: db.client, consumedCapacity: 'off' }).writeAll(
      [put('c')],
      soon(),
    );
    expect(asked).toEqual(['INDEXES', 'TOTAL', 'NONE']);
    // The fake reports one unit per item when asked.
    expect([computed, exact, off].map((r) => r.stats.consumedWriteCapacity)).toEqual([1, 2, 0]);
  });
});

describe('WriteBatcher streaming', () => {
  it('resolves each add() with its outcome once the buffer is flushed by size', async () => {
    const db = new InMemoryDynamoDb();
    const batcher = new WriteBatcher({ client: db.client, maxBatchSize: 3, flushDelayMs: 60_000 });
    const outcomes = await Promise.all([batcher.add(put('a')), batcher.add(put('b')), batcher.add(put('c'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['written', 'written', 'written']);
    expect(db.calls).toHaveLength(1);
  });

  it('flushes a partial buffer after flushDelayMs', async () => {
    const db = new InMemoryDynamoDb();
    const batcher = new WriteBatcher({ client: db.client, maxBatchSize: 100, flushDelayMs: 5 });
    expect(await batcher.add(put('a'))).toEqual({ status: 'written' });
  });

  it('close() drains what is buffered and then refuses new writes', async () => {
    const db = new InMemoryDynamoDb();
    const batcher = new WriteBatcher({ client: db.client, maxBatchSize: 100, flushDelayMs: 60_000 });
    const pending = batcher.add(put('a'));
    await batcher.close();
    expect(await pending).toEqual({ status: 'written' });
    await expect(batcher.add(put('b'))).rejects.toBeInstanceOf(WriteBatcherClosedError);
  });
});
