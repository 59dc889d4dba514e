import { describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../../../../shared/pipeline/config.ts';
import { Router, type RoutesConfig } from '../../../../shared/pipeline/routing.ts';
import { shardOfSortKey } from '../../../../shared/pipeline/sharding.ts';
import type { WriteRequest } from '../../../../shared/write-batcher/index.ts';
import { deleteMessage, itemsRoutes, putMessage } from '../../../support/factories/writes.ts';

const router = new Router(itemsRoutes);

describe('Router', () => {
  it('maps the logical table to the physical one, defaulting to items', () => {
    const request = router.toWriteRequest({ op: 'put', item: { pk: 'a', sk: '1' } });
    expect(request.target.tableName).toBe('items-physical');
  });

  it('rejects tables the pipeline does not route', () => {
    expect(() => router.toWriteRequest({ ...putMessage('a'), table: 'users' })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_TABLE' }),
    );
  });

  it('rejects ops the route does not allow', () => {
    const putOnly = new Router({ items: { ...itemsRoutes.items!, ops: ['put'] } });
    expect(() => putOnly.toWriteRequest(deleteMessage('a'))).toThrow(
      expect.objectContaining({ code: 'OP_NOT_ALLOWED' }),
    );
  });

  it.each([
    ['a missing sort key', { pk: 'a' }, /item\.sk: key attribute is missing/],
    ['a number for a string key', { pk: 1, sk: '1' }, /item\.pk: must be a string, got number/],
    ['an empty key', { pk: '', sk: '1' }, /item\.pk: must not be empty/],
  ])('rejects a put with %s', (_, item, message) => {
    expect(() => router.toWriteRequest({ op: 'put', item })).toThrow(message);
  });

  it('rejects a delete key with attributes that are not keys', () => {
    expect(() => router.toWriteRequest({ op: 'delete', key: { pk: 'a', sk: '1', x: 'y' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
  });

  it('rejects items that set attributes the pipeline reserves', () => {
    expect(() => router.toWriteRequest(putMessage('a', { _version: 3 }))).toThrow(
      expect.objectContaining({ code: 'RESERVED_ATTRIBUTE' }),
    );
  });

  it('carries the FIFO group as the coalescing scope', () => {
    expect(router.toWriteRequest(putMessage('a'), 'group-1').scope).toBe('group-1');
  });
});

const hashed: RoutesConfig = {
  items: { ...itemsRoutes.items!, shards: { hot: { count: 4, by: 'sortKeyHash' } } },
};
const appendOnly: RoutesConfig = {
  log: {
    tableName: 'log-physical',
    partitionKey: 'pk',
    sortKey: 'sk',
    keyType: 'S',
    ops: ['put'],
    shards: { stream: { count: 3, by: 'roundRobin' } },
  },
};

function partitionOf(request: WriteRequest): unknown {
  return request.op === 'put' ? request.item.pk : request.key.pk;
}

describe('Router with sharded partition keys', () => {
  it('puts and deletes one item on the shard its sort key hashes to', () => {
    // Prepare
    const router = new Router(hashed);
    // Act
    const put = router.toWriteRequest({ op: 'put', item: { pk: 'hot', sk: 's1', n: 1 }, version: 3 });
    const del = router.toWriteRequest({ op: 'delete', key: { pk: 'hot', sk: 's1' }, version: 4 });
    // Assess
    expect(shardOfSortKey('s1', 4)).toBe(1);
    expect(put).toMatchObject({ op: 'put', item: { pk: 'hot#1', sk: 's1', n: 1 }, version: 3 });
    expect(del).toMatchObject({ op: 'delete', key: { pk: 'hot#1', sk: 's1' }, version: 4 });
  });

  it('leaves partition keys it does not shard as they are', () => {
    const request = new Router(hashed).toWriteRequest(putMessage('cold'));
    expect(partitionOf(request)).toBe('cold');
  });

  it('refuses a write to the physical key of a shard', () => {
    expect(() => new Router(hashed).toWriteRequest(putMessage('hot#2'))).toThrow(
      expect.objectContaining({
        code: 'INVALID_KEY',
        message: expect.stringMatching(/shard 2 of the sharded partition key "hot"/),
      }),
    );
  });

  it('turns round-robin keys in order, one shard per item within a session', () => {
    // Prepare
    const router = new Router(appendOnly, { random: () => 0 });
    const session = router.session();
    const put = (sk: string) =>
      session.toWriteRequest({ op: 'put', table: 'log', item: { pk: 'stream', sk } });
    // Act
    const shards = ['e1', 'e2', 'e1', 'e3', 'e4'].map((sk) => partitionOf(put(sk)));
    // Assess: e1 keeps shard 0 on its second write, so the two coalesce.
    expect(shards).toEqual(['stream#0', 'stream#1', 'stream#0', 'stream#2', 'stream#0']);
  });

  it('starts each round-robin key at the turn its random draw gives, then carries on across sessions', () => {
    const router = new Router(appendOnly, { random: () => 0.7 });
    const first = router
      .session()
      .toWriteRequest({ op: 'put', table: 'log', item: { pk: 'stream', sk: 'a' } });
    const next = router
      .session()
      .toWriteRequest({ op: 'put', table: 'log', item: { pk: 'stream', sk: 'a' } });
    expect([partitionOf(first), partitionOf(next)]).toEqual(['stream#2', 'stream#0']);
  });

  it('refuses a versioned write to a round-robin key', () => {
    const router = new Router(appendOnly);
    expect(() =>
      router.toWriteRequest({ op: 'put', table: 'log', item: { pk: 'stream', sk: 'a' }, version: 1 }),
    ).toThrow(expect.objectContaining({ code: 'VERSION_NOT_ALLOWED' }));
  });

  it('refuses a route whose sharding breaks a rule when it is built', () => {
    const bad: RoutesConfig = { log: { ...appendOnly.log!, ops: ['put', 'delete'] } };
    expect(() => new Router(bad)).toThrow(
      expect.objectContaining({
        code: 'INVALID_SHARDING',
        message: expect.stringMatching(/^routing\.log\.shards\.stream\.by: /),
      }),
    );
  });

  it('refuses the same route when a config document names it', () => {
    const document = { routing: { log: { ...appendOnly.log, ops: ['put', 'delete'] } } };
    expect(() => parsePipelineConfig(document)).toThrow(
      expect.objectContaining({
        code: 'INVALID_SNAPSHOT_DOCUMENT',
        message: expect.stringContaining('routing.log.shards.stream.by'),
      }),
    );
  });
});
