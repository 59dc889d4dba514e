import { describe, expect, it } from 'vitest';
import {
  fnv1a32,
  ShardsSchema,
  shardingProblem,
  shardKey,
  shardOfSortKey,
  shardOwner,
} from '../../../../shared/pipeline/sharding.ts';

describe('fnv1a32', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('matches the published FNV-1a 32-bit vector for %j', (text, expected) => {
    expect(fnv1a32(text)).toBe(expected);
  });

  it('hashes the UTF-8 bytes, not UTF-16 code units', () => {
    // "é" is 0xC3 0xA9 in UTF-8: two rounds of the hash.
    let hash = 0x811c9dc5;
    for (const byte of [0xc3, 0xa9]) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    expect(fnv1a32('é')).toBe(hash);
  });
});

describe('shardOfSortKey', () => {
  it('picks the same shard for the same sort key, numbers by their text', () => {
    expect([shardOfSortKey('s1', 4), shardOfSortKey('s2', 4), shardOfSortKey('s3', 4)]).toEqual([1, 0, 3]);
    expect(shardOfSortKey(42, 4)).toBe(shardOfSortKey('42', 4));
    expect(shardOfSortKey('2026-12-01T10:00:00Z#42', 4)).toBe(1);
  });

  it('spreads 800 sequential sort keys over 8 shards within one of even', () => {
    // Act
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 800; i++) counts[shardOfSortKey(`item-${i}`, 8)]++;
    // Assess
    expect(counts).toEqual([101, 100, 99, 101, 100, 99, 100, 100]);
  });
});

describe('shardOwner', () => {
  const shards = { hot: { count: 4, by: 'sortKeyHash' as const } };

  it('recognises the physical key of a shard', () => {
    expect(shardOwner(shardKey('hot', 3), shards)).toEqual({ key: 'hot', shard: 3 });
  });

  it.each(['hot#4', 'hot#01', 'hot#', 'cold#1', 'hot', '#1', 'hot#x'])(
    'does not take %j for a shard',
    (value) => {
      expect(shardOwner(value, shards)).toBeUndefined();
    },
  );
});

describe('shardingProblem', () => {
  const route = { sortKey: 'sk', keyType: 'S' as const, ops: ['put', 'delete'] };

  it('accepts a hash-sharded key on a route with a sort key', () => {
    expect(shardingProblem({ ...route, shards: { hot: { count: 8, by: 'sortKeyHash' } } })).toBeUndefined();
  });

  it.each([
    [
      'no sort key',
      { ...route, sortKey: undefined, shards: { hot: { count: 2, by: 'sortKeyHash' as const } } },
      ['shards'],
      /needs a sort key/,
    ],
    [
      'numeric keys',
      { ...route, keyType: 'N' as const, shards: { hot: { count: 2, by: 'sortKeyHash' as const } } },
      ['shards'],
      /needs string keys/,
    ],
    [
      'round-robin on a route that deletes',
      { ...route, shards: { log: { count: 2, by: 'roundRobin' as const } } },
      ['shards', 'log', 'by'],
      /must allow only puts/,
    ],
    [
      'a sharded key that reads as a shard of another',
      {
        ...route,
        shards: {
          hot: { count: 4, by: 'sortKeyHash' as const },
          'hot#2': { count: 2, by: 'sortKeyHash' as const },
        },
      },
      ['shards', 'hot#2'],
      /reads as shard 2 of the sharded partition key "hot"/,
    ],
  ])('refuses %s', (_, shape, path, message) => {
    const problem = shardingProblem(shape);
    expect(problem?.path).toEqual(path);
    expect(problem?.message).toMatch(message);
  });

  it('accepts round-robin on a put-only route', () => {
    expect(
      shardingProblem({ ...route, ops: ['put'], shards: { log: { count: 3, by: 'roundRobin' } } }),
    ).toBeUndefined();
  });
});

describe('ShardsSchema', () => {
  it.each([
    [{ hot: { count: 1 } }, 'count'],
    [{ hot: { count: 101 } }, 'count'],
    [{ hot: { count: 4, by: 'random' } }, 'by'],
    [{ hot: { count: 4, extra: true } }, ''],
  ])('refuses %j', (shards, field) => {
    const result = ShardsSchema.safeParse(shards);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.slice(1).join('.')).toBe(field);
  });

  it('defaults the strategy to sortKeyHash', () => {
    expect(ShardsSchema.parse({ hot: { count: 4 } })).toEqual({ hot: { count: 4, by: 'sortKeyHash' } });
  });
});
