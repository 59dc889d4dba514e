/**
 * Hot-partition write sharding: a route may spread a hot partition key value over N physical
 * partition keys `<value>#<n>` (n = 0..N-1). This module holds the route option's schema, the rules
 * that make it safe, and the shard choice shared by the router (writes), the read helper and
 * `pipeline advise` (which sizes N).
 */

import { z } from 'zod';

/** Fewest and most shards a sharded partition key may have. */
export const SHARD_COUNT = { min: 2, max: 100 } as const;
/** Most sharded partition keys one route may list. */
export const MAX_SHARDED_KEYS = 1000;
/** Between the logical partition key value and the shard number: `tenant-1#3`. */
export const SHARD_SEPARATOR = '#';

/**
 * How a write picks its shard. `sortKeyHash`: FNV-1a (32-bit) of the sort key value's text, mod the
 * count, so every write of one item lands on the same shard (version guards and tombstones work per
 * item). `roundRobin`: the next shard in turn, for append-only data (put-only routes, no versions),
 * where an item is written once and never updated; it spreads writes exactly evenly whatever the
 * sort keys.
 */
export const SHARD_STRATEGIES = ['sortKeyHash', 'roundRobin'] as const;
export type ShardStrategy = (typeof SHARD_STRATEGIES)[number];

export const ShardSpecSchema = z.strictObject({
  count: z.number().int().min(SHARD_COUNT.min).max(SHARD_COUNT.max),
  by: z.enum(SHARD_STRATEGIES).default('sortKeyHash'),
});
export type ShardSpec = z.output<typeof ShardSpecSchema>;

/** The route option: sharded partition key value → its shard spec. */
export const ShardsSchema = z
  .record(z.string().min(1), ShardSpecSchema)
  .refine((shards) => Object.keys(shards).length <= MAX_SHARDED_KEYS, {
    message: `at most ${MAX_SHARDED_KEYS} sharded partition keys per route`,
  });

/** The parts of a route the sharding rules look at. */
export interface ShardedRouteShape {
  readonly sortKey?: string;
  readonly keyType: 'S' | 'N';
  readonly ops: readonly string[];
  readonly shards?: Readonly<Record<string, ShardSpec>>;
}

/** What is wrong with a route's `shards`, and where (relative to the route), or undefined. */
export interface ShardingProblem {
  readonly path: readonly string[];
  readonly message: string;
}

/**
 * The rules a sharded route must follow: a sort key (a shard holds whole items, told apart by it), a
 * string partition key (the shard suffix is text), round-robin only on put-only routes (a delete, or
 * a later write of the same item, could not find the shard its item went to), and no sharded key
 * that reads as a shard of another (`a#1` beside a sharded `a`).
 */
export function shardingProblem(route: ShardedRouteShape): ShardingProblem | undefined {
  const shards = Object.entries(route.shards ?? {});
  if (shards.length === 0) return undefined;
  if (route.sortKey === undefined) {
    return {
      path: ['shards'],
      message: 'sharding needs a sort key: a shard holds whole items, told apart by their sort key',
    };
  }
  if (route.keyType !== 'S') {
    return {
      path: ['shards'],
      message: 'sharding needs string keys (keyType "S"): the shard number is appended as text',
    };
  }
  for (const [key, spec] of shards) {
    if (spec.by === 'roundRobin' && (route.ops.length !== 1 || route.ops[0] !== 'put')) {
      return {
        path: ['shards', key, 'by'],
        message:
          'roundRobin is for append-only data: the route must allow only puts (ops: ["put"]), since a delete could not find the shard its item went to',
      };
    }
    const owner = shardOwner(key, route.shards ?? {});
    if (owner !== undefined) {
      return {
        path: ['shards', key],
        message: `reads as shard ${owner.shard} of the sharded partition key "${owner.key}"; the two would share a partition`,
      };
    }
  }
  return undefined;
}

/** `value#n`: the physical partition key of shard `shard`. */
export function shardKey(value: string, shard: number): string {
  return `${value}${SHARD_SEPARATOR}${shard}`;
}

/**
 * The sharded key and shard a physical partition key value belongs to, when it reads as one
 * (`tenant-1#3` with `tenant-1` sharded over more than 3 shards).
 */
export function shardOwner(
  value: string,
  shards: Readonly<Record<string, ShardSpec>>,
): { readonly key: string; readonly shard: number } | undefined {
  const at = value.lastIndexOf(SHARD_SEPARATOR);
  if (at <= 0) return undefined;
  const digits = value.slice(at + 1);
  if (!/^(0|[1-9]\d*)$/.test(digits)) return undefined;
  const key = value.slice(0, at);
  const spec = Object.hasOwn(shards, key) ? shards[key] : undefined;
  const shard = Number(digits);
  return spec !== undefined && shard < spec.count ? { key, shard } : undefined;
}

/**
 * The shard of an item under `sortKeyHash`: FNV-1a (32-bit, offset 2166136261, prime 16777619) over
 * the UTF-8 bytes of the sort key value's text — a number as JavaScript's `String(n)` writes it —
 * mod `count`. Stable across processes and versions of this code.
 *
 * @example shardOfSortKey('2026-12-01T10:00:00Z#42', 8)
 */
export function shardOfSortKey(sortKeyValue: string | number, count: number): number {
  return fnv1a32(String(sortKeyValue)) % count;
}

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
