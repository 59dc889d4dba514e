import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processIngestBatch } from '../../../functions/batch-writer/core.ts';
import type { Message } from '../../../shared/contract/index.ts';
import { createTable } from '../../../shared/local/resources/write-path.ts';
import type { DeadLetter, DeadLetterSink } from '../../../shared/pipeline/dead-letter.ts';
import { Router, type RoutesConfig, RoutesSchema } from '../../../shared/pipeline/routing.ts';
import { querySharded } from '../../../shared/pipeline/sharded-read.ts';
import { shardKey, shardOfSortKey } from '../../../shared/pipeline/sharding.ts';
import { WriteBatcher } from '../../../shared/write-batcher/index.ts';
import { sqsRecord } from '../../support/factories/sqs.ts';

// Sharded routes on DynamoDB Local, through the batch writer's core and a real WriteBatcher: a hot
// partition key spread by sort key hash (versions and tombstones per item) and an append-only one
// spread round-robin; the read helper gives back exactly the logical items.

const client = new DynamoDBClient({ maxAttempts: 1 });
const tables: string[] = [];

class RecordingSink implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async send(letters: readonly DeadLetter[]): Promise<boolean[]> {
    this.letters.push(...letters);
    return letters.map(() => true);
  }
}

async function freshRoutes(shards: object, ops: ('put' | 'delete')[]): Promise<RoutesConfig> {
  const tableName = `sharded-${randomUUID().slice(0, 8)}`;
  await createTable(client, { tableName, partitionKey: 'pk', sortKey: 'sk' });
  tables.push(tableName);
  return RoutesSchema.parse({ items: { tableName, partitionKey: 'pk', sortKey: 'sk', ops, shards } });
}

async function ingest(router: Router, messages: readonly Message[], sink = new RecordingSink()) {
  const batcher = new WriteBatcher({ client, baseDelayMs: 5, maxDelayMs: 50 });
  const result = await processIngestBatch(
    messages.map((m) => sqsRecord(m)),
    { router, batcher, deadLetters: sink, deadline: { at: Date.now() + 20_000 } },
  );
  return { ...result, sink };
}

async function scan(tableName: string): Promise<Record<string, unknown>[]> {
  const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return (page.Items ?? []).map((raw) => unmarshall(raw));
}

const sk = (i: number) => `s${String(i).padStart(2, '0')}`;

afterAll(async () => {
  await Promise.all(tables.map((TableName) => client.send(new DeleteTableCommand({ TableName }))));
});

describe('a partition key sharded by sort key hash', () => {
  let routes: RoutesConfig;

  beforeAll(async () => {
    routes = await freshRoutes({ hot: { count: 4, by: 'sortKeyHash' } }, ['put', 'delete']);
    const router = new Router(routes);
    const put = (i: number, version: number): Message => ({
      op: 'put',
      item: { pk: 'hot', sk: sk(i), version },
      version,
    });
    // Batch 1: version 1 of 40 items, and of one unsharded item.
    const first = await ingest(router, [
      ...Array.from({ length: 40 }, (_, i) => put(i, 1)),
      { op: 'put', item: { pk: 'cold', sk: 'c' } },
    ]);
    expect(first.batchItemFailures).toEqual([]);
    // Batch 2: version 3 of items 0-9, a stale version 2 of items 0-4 after it, versioned deletes of
    // items 30-39 (tombstones), and a stale version 1 put of item 35 behind its tombstone.
    const second = await ingest(router, [
      ...Array.from({ length: 10 }, (_, i) => put(i, 3)),
      ...Array.from({ length: 5 }, (_, i) => put(i, 2)),
      ...Array.from(
        { length: 10 },
        (_, i): Message => ({ op: 'delete', key: { pk: 'hot', sk: sk(30 + i) }, version: 2 }),
      ),
    ]);
    expect(second.batchItemFailures).toEqual([]);
    expect(second.summary.writes.coalesced).toBe(5);
    const third = await ingest(router, [put(35, 1), put(3, 2)]);
    expect(third.summary.writes.stale).toBe(2);
  });

  it('stores each item on the shard its sort key hashes to, tombstones included', async () => {
    const stored = (await scan(routes.items!.tableName)).filter((item) => item.pk !== 'cold');
    expect(stored).toHaveLength(40);
    for (const item of stored) expect(item.pk).toBe(shardKey('hot', shardOfSortKey(String(item.sk), 4)));
    const perShard = [0, 1, 2, 3].map((n) => stored.filter((item) => item.pk === `hot#${n}`).length);
    expect(perShard).toEqual([10, 10, 10, 10]);
  });

  it('reads back exactly the live logical items, in sort key order, at their winning versions', async () => {
    // Act
    const items = await querySharded({
      client,
      route: routes.items!,
      partitionKey: 'hot',
      consistentRead: true,
    });
    // Assess
    expect(items.map((item) => item.sk)).toEqual(Array.from({ length: 30 }, (_, i) => sk(i)));
    expect(items.every((item) => item.pk === 'hot')).toBe(true);
    expect(items.map((item) => item._version)).toEqual([...new Array(10).fill(3), ...new Array(20).fill(1)]);
  });

  it('returns tombstones when asked, and honours limit, order and a sort key condition across shards', async () => {
    const route = routes.items!;
    const all = await querySharded({
      client,
      route,
      partitionKey: 'hot',
      includeTombstones: true,
      consistentRead: true,
    });
    expect(all).toHaveLength(40);
    expect(all.filter((item) => item._deleted === true).map((item) => item.sk)).toEqual(
      Array.from({ length: 10 }, (_, i) => sk(30 + i)),
    );
    // A limit of 3 makes every shard page (Limit 3): the merge still finds the true first three.
    const lastThree = await querySharded({ client, route, partitionKey: 'hot', descending: true, limit: 3 });
    expect(lastThree.map((item) => item.sk)).toEqual(['s29', 's28', 's27']);
    const range = await querySharded({
      client,
      route,
      partitionKey: 'hot',
      sortKeyCondition: { op: 'between', low: 's05', high: 's08' },
    });
    expect(range.map((item) => item.sk)).toEqual(['s05', 's06', 's07', 's08']);
  });

  it('reads an unsharded partition key with one query', async () => {
    const items = await querySharded({ client, route: routes.items!, partitionKey: 'cold' });
    expect(items).toEqual([{ pk: 'cold', sk: 'c' }]);
  });
});

describe('an append-only partition key sharded round-robin', () => {
  let routes: RoutesConfig;
  let sink: RecordingSink;
  let coalesced: number;

  beforeAll(async () => {
    routes = await freshRoutes({ stream: { count: 4, by: 'roundRobin' } }, ['put']);
    const router = new Router(routes, { random: () => 0 });
    const event = (i: number): Message => ({ op: 'put', item: { pk: 'stream', sk: sk(i), n: i } });
    // Three batches of four events; the first batch also carries event 0 twice (coalesced), the last
    // a redelivery of event 1 (another shard: the reader keeps one copy) and a versioned write.
    const first = await ingest(router, [event(0), event(1), event(0), event(2), event(3)]);
    coalesced = first.summary.writes.coalesced;
    await ingest(router, [4, 5, 6, 7].map(event));
    const last = await ingest(router, [...[8, 9, 10, 11].map(event), event(1), { ...event(12), version: 1 }]);
    sink = last.sink;
  });

  it('spreads the events evenly, and coalesces writes of one event within a batch', async () => {
    const stored = await scan(routes.items!.tableName);
    const perShard = [0, 1, 2, 3].map((n) => stored.filter((item) => item.pk === `stream#${n}`).length);
    // 12 events + the redelivered event 1 (it landed on shard 0, after events 8-11 took 0-3).
    expect(perShard).toEqual([4, 3, 3, 3]);
    expect(coalesced).toBe(1);
  });

  it('dead-letters the versioned write with its reason', () => {
    expect(sink.letters.map((l) => l.errorCode)).toEqual(['VERSION_NOT_ALLOWED']);
  });

  it('reads back each event once, in order', async () => {
    const items = await querySharded({
      client,
      route: routes.items!,
      partitionKey: 'stream',
      consistentRead: true,
    });
    expect(items.map((item) => item.n)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(new Set(items.map((item) => item.pk))).toEqual(new Set(['stream']));
  });
});
