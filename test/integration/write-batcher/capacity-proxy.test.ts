import { randomUUID } from 'node:crypto';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import {
  type CapacityProxy,
  type CapacityProxyOptions,
  partitionOf,
  startCapacityProxy,
} from '../../../shared/local/aws/capacity-proxy.ts';
import { createTable, deleteTable } from '../../../shared/local/resources/write-path.ts';
import { finalOutcome, type TableTarget, WriteBatcher } from '../../../shared/write-batcher/index.ts';

// The capacity proxy in front of DynamoDB Local: DynamoDB's answers to writes beyond a table's write
// capacity (on a clock the tests move), and a WriteBatcher writing through it on the real clock.

const direct = new DynamoDBClient({});
const tables: string[] = [];
let proxy: CapacityProxy;

async function freshTable(): Promise<TableTarget> {
  const tableName = `capacity-${randomUUID().slice(0, 8)}`;
  await createTable(direct, { tableName, partitionKey: 'pk', sortKey: 'sk' });
  tables.push(tableName);
  return { tableName, partitionKey: 'pk', sortKey: 'sk' };
}

async function proxied(
  tableName: string,
  capacity: { writeUnitsPerSecond: number; partitions: number },
  options: Partial<CapacityProxyOptions> = {},
): Promise<DynamoDBClient> {
  proxy = await startCapacityProxy({
    target: inject('localAws').dynamodb,
    tables: { [tableName]: { ...capacity, partitionKey: 'pk' } },
    ...options,
  });
  // maxAttempts 1: every throttle reaches the caller instead of being retried away.
  return new DynamoDBClient({ endpoint: proxy.url, maxAttempts: 1 });
}

/** A clock that moves only when told to. */
function handClock() {
  let now = 0;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

/** `count` partition keys that hash to `partition` of `partitions`. */
function keysIn(partition: number, partitions: number, count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    if (partitionOf({ S: `k${i}` }, partitions) === partition) keys.push(`k${i}`);
  }
  return keys;
}

const item = (pk: string, bytes = 0) => ({ pk: { S: pk }, sk: { S: '1' }, data: { S: 'x'.repeat(bytes) } });

async function storedKeys(tableName: string): Promise<Set<string>> {
  const keys = new Set<string>();
  let start: Record<string, never> | undefined;
  do {
    const page = await direct.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const stored of page.Items ?? []) keys.add(stored.pk!.S!);
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return keys;
}

afterEach(async () => {
  await proxy.close();
});
afterAll(async () => {
  await Promise.all(tables.map((tableName) => deleteTable(direct, tableName)));
});

describe('capacity proxy', () => {
  it('returns the writes beyond a partition’s units in UnprocessedItems and forwards the rest', async () => {
    // Prepare: 2 partitions of 2 units/s, 1 s of refill
    const { tableName } = await freshTable();
    const time = handClock();
    const client = await proxied(tableName, { writeUnitsPerSecond: 4, partitions: 2 }, time);
    time.advance(1_000);
    const [a, b] = [keysIn(0, 2, 3), keysIn(1, 2, 1)];
    // Act
    const output = await client.send(
      new BatchWriteItemCommand({
        RequestItems: { [tableName]: [...a, ...b].map((pk) => ({ PutRequest: { Item: item(pk) } })) },
      }),
    );
    // Assess: partition 0 admits 2 of its 3, partition 1 its one
    const unprocessed = output.UnprocessedItems?.[tableName] ?? [];
    expect(unprocessed.map((w) => w.PutRequest?.Item?.pk?.S)).toEqual([a[2]]);
    expect(await storedKeys(tableName)).toEqual(new Set([a[0], a[1], b[0]]));
    expect(proxy.stats()[tableName]).toMatchObject({
      writeRequests: 1,
      throttledRequests: 1,
      throttledWrites: 1,
      admittedWriteUnits: 3,
      budgetWriteUnits: 4,
      availableWriteUnits: 1,
    });
  });

  it('answers ProvisionedThroughputExceededException with ThrottlingReasons when no write has units', async () => {
    const { tableName } = await freshTable();
    const client = await proxied(
      tableName,
      { writeUnitsPerSecond: 2, partitions: 1 },
      { ...handClock(), region: 'eu-west-1', accountId: '111122223333' },
    );
    const error = await client
      .send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: [{ PutRequest: { Item: item('a') } }] } }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(error).toMatchObject({
      $metadata: { httpStatusCode: 400 },
      ThrottlingReasons: [
        {
          reason: 'TableWriteProvisionedThroughputExceeded',
          resource: `arn:aws:dynamodb:eu-west-1:111122223333:table/${tableName}`,
        },
      ],
    });
    expect(await storedKeys(tableName)).toEqual(new Set());
  });

  it('throttles a PutItem to a dry partition as a hot key range while the others have units', async () => {
    const { tableName } = await freshTable();
    const time = handClock();
    const client = await proxied(tableName, { writeUnitsPerSecond: 4, partitions: 2 }, time);
    time.advance(500); // 1 unit in each partition
    const [first, second] = keysIn(0, 2, 2);
    await client.send(new PutItemCommand({ TableName: tableName, Item: item(first!) }));
    const error = await client
      .send(new PutItemCommand({ TableName: tableName, Item: item(second!) }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect((error as ProvisionedThroughputExceededException).ThrottlingReasons).toEqual([
      {
        reason: 'TableWriteKeyRangeThroughputExceeded',
        resource: `arn:aws:dynamodb:us-east-1:123456789012:table/${tableName}`,
      },
    ]);
  });

  it('charges 1 unit per started KB, twice in a transaction, and cancels a transaction it throttles', async () => {
    // Prepare: one partition, 20 units after 1 s
    const { tableName } = await freshTable();
    const time = handClock();
    const client = await proxied(
      tableName,
      { writeUnitsPerSecond: 20, partitions: 1 },
      { ...time, burstSeconds: 1 },
    );
    time.advance(1_000);
    // Act: 2.5 KB → 3 units; the same in a transaction → 6; then a transaction of 3 × 6 > 11 left
    await client.send(new PutItemCommand({ TableName: tableName, Item: item('big', 2_500) }));
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: tableName, Item: item('tx', 2_500) } }],
      }),
    );
    const error = await client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: ['t1', 't2', 't3'].map((pk) => ({
            Put: { TableName: tableName, Item: item(pk, 2_500) },
          })),
        }),
      )
      .catch((e: unknown) => e);
    // Assess
    expect(proxy.stats()[tableName]?.admittedWriteUnits).toBe(9);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'ThrottlingError',
      'ThrottlingError',
      'ThrottlingError',
    ]);
    expect(await storedKeys(tableName)).toEqual(new Set(['big', 'tx']));
  });

  it('passes reads and writes to tables it does not meter straight through', async () => {
    const metered = await freshTable();
    const other = await freshTable();
    const client = await proxied(metered.tableName, { writeUnitsPerSecond: 1, partitions: 1 }, handClock());
    await client.send(new PutItemCommand({ TableName: other.tableName, Item: item('free') }));
    const read = await client.send(
      new GetItemCommand({ TableName: other.tableName, Key: { pk: { S: 'free' }, sk: { S: '1' } } }),
    );
    expect(read.Item?.pk?.S).toBe('free');
  });
});

describe('WriteBatcher through the capacity proxy', () => {
  it('writes every item, retrying what the proxy throttles, within the write units it allows', async () => {
    // Prepare: 200 units/s over 4 partitions; 300 items of 1 unit and 100 of 3 (2.5 KB)
    const target = await freshTable();
    const client = await proxied(target.tableName, { writeUnitsPerSecond: 200, partitions: 4 });
    const batcher = new WriteBatcher({ client, baseDelayMs: 5, maxDelayMs: 100 });
    const requests = Array.from({ length: 400 }, (_, i) => ({
      op: 'put' as const,
      target,
      item: { pk: `k${i}`, sk: '1', data: 'x'.repeat(i % 4 === 0 ? 2_500 : 10) },
    }));
    // Act
    const { outcomes, stats } = await batcher.writeAll(requests, { deadline: { at: Date.now() + 60_000 } });
    // Assess: all written, each admitted exactly once, never more than the buckets refilled
    const proxyStats = proxy.stats()[target.tableName]!;
    expect(outcomes.every((o) => o.status === 'written')).toBe(true);
    expect((await storedKeys(target.tableName)).size).toBe(400);
    expect(proxyStats.admittedWriteUnits).toBe(300 + 100 * 3);
    expect(proxyStats.admittedWriteUnits).toBeLessThanOrEqual(proxyStats.budgetWriteUnits);
    expect(proxyStats.throttledRequests).toBeGreaterThan(0);
    expect(stats.unprocessedRetried + stats.throttles).toBeGreaterThan(0);
  });

  it('loses nothing when the deadline comes first: each item is written or retryable', async () => {
    // Prepare: far too little capacity for 400 items within 1 s
    const target = await freshTable();
    const client = await proxied(target.tableName, { writeUnitsPerSecond: 40, partitions: 2 });
    const batcher = new WriteBatcher({ client, baseDelayMs: 5, maxDelayMs: 50 });
    const requests = Array.from({ length: 400 }, (_, i) => ({
      op: 'put' as const,
      target,
      item: { pk: `k${i}`, sk: '1' },
    }));
    // Act
    const { outcomes } = await batcher.writeAll(requests, { deadline: { at: Date.now() + 1_000 } });
    // Assess
    const stored = await storedKeys(target.tableName);
    const statuses = outcomes.map((o) => finalOutcome(o).status);
    expect(statuses.every((s) => s === 'written' || s === 'retryable')).toBe(true);
    expect(statuses).toContain('retryable');
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'written') expect(stored.has(`k${i}`)).toBe(true);
    });
    const proxyStats = proxy.stats()[target.tableName]!;
    expect(proxyStats.admittedWriteUnits).toBeLessThanOrEqual(proxyStats.budgetWriteUnits);
  });
});
