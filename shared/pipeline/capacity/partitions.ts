/**
 * Hot partitions: partition keys whose write units per second at the target rate exceed what one
 * DynamoDB partition sustains, and the shard count that brings every shard under the limit with
 * headroom — found by replaying the sample's sort keys through the router's own shard choice.
 */

import { type ShardStrategy, shardOfSortKey } from '../sharding.ts';
import { adviseAssumptions, awsLimits } from './limits.ts';
import { round } from './stats.ts';

export interface HotPartition {
  /** Logical table (the route's name). */
  readonly table: string;
  /** Physical table. */
  readonly tableName: string;
  /** Logical partition key value. */
  readonly partitionKey: string;
  /** The whole partition key's write units per second at the target rate (after coalescing). */
  readonly writeUnitsPerSec: number;
  /** The same at the sample's peak second, scaled to the target rate. */
  readonly peakWriteUnitsPerSec: number;
  /** Shards the route gives it today (1: not sharded), and the busiest one's write units per second. */
  readonly currentShards: number;
  readonly busiestShardWriteUnitsPerSec: number;
  /** Shards that bring each under `partitionWriteUnitsPerSec × shardHeadroom`. */
  readonly shards: number;
  readonly by: ShardStrategy;
  /** The busiest shard's write units per second with `shards`. */
  readonly shardWriteUnitsPerSec: number;
  /** False when no count up to `maxShards` gets there (one item alone is too hot: sharding cannot split it). */
  readonly meetsLimit: boolean;
  /** The partition's hottest item (sort key) and its write units per second. */
  readonly hottestItem: { readonly sortKey: string; readonly writeUnitsPerSec: number };
}

/** What one logical partition key costs per second at the target rate, after coalescing. */
export interface PartitionLoad {
  readonly table: string;
  readonly tableName: string;
  readonly partitionKey: string;
  readonly unitsPerSec: number;
  /** Write units per second per sort key value. */
  readonly bySortKey: ReadonlyMap<string, number>;
}

export interface HotPartitionInput {
  readonly partitions: Iterable<PartitionLoad>;
  /** Peak second over the mean (1 when the sample has no timestamps). */
  readonly burstiness: number;
  /** The route's shard spec for a partition key, if it has one. */
  readonly shardOf: (
    table: string,
    partitionKey: string,
  ) => { readonly count: number; readonly by: ShardStrategy } | undefined;
  /** Round-robin is allowed: the route is put-only and the sample only appends to this key. */
  readonly appendOnly: (table: string, partitionKey: string) => boolean;
}

/** Every partition key whose busiest physical partition exceeds the per-partition write limit. */
export function findHotPartitions(input: HotPartitionInput): HotPartition[] {
  const limit = awsLimits.partitionWriteUnitsPerSec;
  const target = limit * adviseAssumptions.shardHeadroom;
  const hot: HotPartition[] = [];
  for (const p of input.partitions) {
    const spec = input.shardOf(p.table, p.partitionKey);
    const busiest = spec === undefined ? p.unitsPerSec : busiestShard(p, spec.by, spec.count);
    if (busiest <= limit) continue;
    const by: ShardStrategy =
      spec?.by ?? (input.appendOnly(p.table, p.partitionKey) ? 'roundRobin' : 'sortKeyHash');
    const sizing = sizeShards(p, by, (units) => units <= target);
    let hottest: [string, number] = ['', 0];
    for (const entry of p.bySortKey) if (entry[1] > hottest[1]) hottest = entry;
    hot.push({
      table: p.table,
      tableName: p.tableName,
      partitionKey: p.partitionKey,
      writeUnitsPerSec: round(p.unitsPerSec, 1),
      peakWriteUnitsPerSec: round(p.unitsPerSec * input.burstiness, 1),
      currentShards: spec?.count ?? 1,
      busiestShardWriteUnitsPerSec: round(busiest, 1),
      shards: sizing.shards,
      by,
      shardWriteUnitsPerSec: round(sizing.busiestUnits, 1),
      meetsLimit: sizing.meets,
      hottestItem: { sortKey: hottest[0], writeUnitsPerSec: round(hottest[1], 1) },
    });
  }
  return hot.sort((a, b) => b.writeUnitsPerSec - a.writeUnitsPerSec);
}

/**
 * The fewest shards (2..maxShards) whose busiest shard passes `fits`: by sort key hash, each sort
 * key's units go to `shardOfSortKey(sk, n)`; round-robin splits the units evenly. When none fits,
 * the count with the least busy busiest shard.
 */
export function sizeShards(
  partition: Pick<PartitionLoad, 'unitsPerSec' | 'bySortKey'>,
  by: ShardStrategy,
  fits: (busiestUnits: number) => boolean,
): { shards: number; busiestUnits: number; meets: boolean } {
  let best = { shards: 2, busiestUnits: Number.POSITIVE_INFINITY };
  for (let n = 2; n <= adviseAssumptions.maxShards; n++) {
    const busiestUnits = busiestShard(partition, by, n);
    if (fits(busiestUnits)) return { shards: n, busiestUnits, meets: true };
    if (busiestUnits < best.busiestUnits) best = { shards: n, busiestUnits };
  }
  return { ...best, meets: false };
}

function busiestShard(
  partition: Pick<PartitionLoad, 'unitsPerSec' | 'bySortKey'>,
  by: ShardStrategy,
  n: number,
): number {
  if (by === 'roundRobin') return partition.unitsPerSec / n;
  const shards = new Float64Array(n);
  for (const [sortKey, units] of partition.bySortKey) shards[shardOfSortKey(sortKey, n)]! += units;
  return Math.max(...shards);
}
