/**
 * The sample replayed as the batch writer would see it: consecutive batches of a given size, each
 * routed in one session and planned by the WriteBatcher's own planner (`dryRun`: validation,
 * coalescing per item, sizes, write units, requests). What reaches DynamoDB is tallied per table,
 * logical partition key and sort key, per message of the sample, so it scales to any rate.
 */

import { DEFAULT_TABLE, type Message } from '../../contract/index.ts';
import { dryRun, type WriteRequest } from '../../write-batcher/index.ts';
import type { Router } from '../routing.ts';
import { type KeyNames, logicalKey, type SampleWrite } from './items.ts';
import type { PartitionLoad } from './partitions.ts';
import { bump } from './stats.ts';

/** What one logical partition key received in the replay, after coalescing. */
export interface PartitionTally {
  readonly table: string;
  readonly tableName: string;
  readonly partitionKey: string;
  units: number;
  /** Write units per sort key value. */
  readonly bySortKey: Map<string, number>;
}

export interface Replay {
  readonly batchSize: number;
  /** Valid writes (routed and planned), and how many of them coalescing removed. */
  readonly valid: number;
  readonly coalesced: number;
  readonly units: number;
  /** Writes sent, unconditional (BatchWriteItem) and version-guarded. */
  readonly sent: { readonly unconditional: number; readonly guarded: number };
  readonly partitions: ReadonlyMap<string, PartitionTally>;
  /** Write units per physical table. */
  readonly unitsByTable: ReadonlyMap<string, number>;
}

export interface ReplayOptions {
  readonly router: Router;
  readonly keyNames: KeyNames;
  readonly versionedWrites: 'transaction' | 'conditional-put';
  readonly now: number;
}

/** Replays the writes in batches of `batchSize` (the last one may be shorter). */
export function replayBatches(
  writes: readonly SampleWrite[],
  batchSize: number,
  options: ReplayOptions,
): Replay {
  const partitions = new Map<string, PartitionTally>();
  const unitsByTable = new Map<string, number>();
  let valid = 0;
  let coalesced = 0;
  let units = 0;
  let unconditional = 0;
  let guarded = 0;
  for (let start = 0; start < writes.length; start += batchSize) {
    const session = options.router.session();
    const requests: WriteRequest[] = [];
    const messages: Message[] = [];
    for (const { message } of writes.slice(start, start + batchSize)) {
      try {
        requests.push(session.toWriteRequest(message));
        messages.push(message);
      } catch {
        // The batch writer would dead-letter it: counted by `measureMessages`, not a write here.
      }
    }
    const plan = dryRun(requests, { versionedWrites: options.versionedWrites, now: options.now });
    valid += requests.length - plan.rejected.length;
    coalesced += plan.coalesced;
    for (const write of plan.writes) {
      units += write.writeUnits;
      if (write.kind === 'guardedPut') guarded++;
      else unconditional++;
      bump(unitsByTable, write.tableName, write.writeUnits);
      const message = messages[write.index]!;
      const table = message.table ?? DEFAULT_TABLE;
      const key = logicalKey(message, options.keyNames(table));
      const id = `${table}\u0000${key.partitionKey}`;
      let partition = partitions.get(id);
      if (partition === undefined) {
        partition = {
          table,
          tableName: write.tableName,
          partitionKey: key.partitionKey,
          units: 0,
          bySortKey: new Map(),
        };
        partitions.set(id, partition);
      }
      partition.units += write.writeUnits;
      bump(partition.bySortKey, key.sortKey ?? '', write.writeUnits);
    }
  }
  return { batchSize, valid, coalesced, units, sent: { unconditional, guarded }, partitions, unitsByTable };
}

/** The `batchSize` consecutive writes (aligned chunks) with the most body bytes; the whole sample if smaller. */
export function largestBatch(writes: readonly SampleWrite[], batchSize: number): readonly SampleWrite[] {
  let best: readonly SampleWrite[] = writes.slice(0, batchSize);
  let bestBytes = -1;
  for (let start = 0; start + batchSize <= writes.length; start += batchSize) {
    const batch = writes.slice(start, start + batchSize);
    const bytes = batch.reduce((sum, w) => sum + w.bodyBytes, 0);
    if (bytes > bestBytes) {
      best = batch;
      bestBytes = bytes;
    }
  }
  return best;
}

/** BatchWriteItem and TransactWriteItems capacities (the WriteBatcher's chunks). */
const BATCH_WRITES = 25;
const TRANSACTION_WRITES = 100;

/** Each logical partition key's write units per second at the target rate, in total and per sort key. */
export function partitionLoads(
  tallies: ReadonlyMap<string, PartitionTally>,
  perSec: (units: number) => number,
): Map<string, PartitionLoad> {
  const loads = new Map<string, PartitionLoad>();
  for (const [id, t] of tallies) {
    loads.set(id, {
      table: t.table,
      tableName: t.tableName,
      partitionKey: t.partitionKey,
      unitsPerSec: perSec(t.units),
      bySortKey: new Map([...t.bySortKey].map(([sk, units]) => [sk, perSec(units)])),
    });
  }
  return loads;
}

/** Requests a batch of `batchSize` at the target takes: the replay's writes per message, chunked as the WriteBatcher does. */
export function requestsPerBatch(
  replay: Replay,
  messages: number,
  batchSize: number,
  versionedWrites: 'transaction' | 'conditional-put',
) {
  const perBatch = (writes: number) => (writes / messages) * batchSize;
  const guarded = perBatch(replay.sent.guarded);
  return {
    batchWrite: Math.ceil(perBatch(replay.sent.unconditional) / BATCH_WRITES),
    guarded: Math.ceil(versionedWrites === 'transaction' ? guarded / TRANSACTION_WRITES : guarded),
  };
}
