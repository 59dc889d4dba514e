/**
 * What each message of a sample costs on its own, by the batch writer's own rules: routed (rejects
 * counted by code), then planned by the WriteBatcher's planner (`dryRun`: size, version and
 * tombstone attributes, write units). Aggregated per logical item, the unit the model of batches
 * and partitions works on.
 */

import { DEFAULT_TABLE, type Message } from '../../contract/index.ts';
import { dryRun } from '../../write-batcher/index.ts';
import type { Router } from '../routing.ts';
import type { SampleRecord } from './sample.ts';

export type SampleWrite = Extract<SampleRecord, { kind: 'write' }>;

/** A logical item (table, partition key, sort key) and what its writes cost. */
export interface ItemTally {
  readonly table: string;
  /** Physical table. */
  readonly tableName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Valid writes of it in the sample. */
  count: number;
  /** Their write units, summed (each as if written alone). */
  units: number;
  /** Of them, version-guarded (transactions or conditional puts). */
  guarded: number;
}

export interface MessageCosts {
  /** Logical item id (`table\0pk\0sk`) → tally. */
  readonly items: ReadonlyMap<string, ItemTally>;
  /** Valid writes. */
  readonly valid: number;
  /** Messages the batch writer would reject, by error code. */
  readonly rejected: Readonly<Record<string, number>>;
  /** DynamoDB's size of each valid write. */
  readonly itemBytes: readonly number[];
}

export type KeyNames = (table: string) => { readonly partitionKey: string; readonly sortKey?: string };

/** Routes and plans every write alone and tallies the costs per logical item. */
export function measureMessages(
  writes: readonly SampleWrite[],
  options: {
    readonly router: Router;
    readonly keyNames: KeyNames;
    readonly versionedWrites: 'transaction' | 'conditional-put';
    readonly now: number;
  },
): MessageCosts {
  const items = new Map<string, ItemTally>();
  const rejected: Record<string, number> = {};
  const itemBytes: number[] = [];
  let valid = 0;
  const reject = (code: string) => {
    rejected[code] = (rejected[code] ?? 0) + 1;
  };
  for (const { message } of writes) {
    let plan: ReturnType<typeof dryRun>;
    try {
      const request = options.router.toWriteRequest(message);
      plan = dryRun([request], { versionedWrites: options.versionedWrites, now: options.now });
    } catch (error) {
      reject((error as { code?: string }).code ?? 'UNKNOWN');
      continue;
    }
    const write = plan.writes[0];
    if (write === undefined) {
      reject(plan.rejected[0]?.error.code ?? 'UNKNOWN');
      continue;
    }
    valid++;
    itemBytes.push(write.itemBytes);
    const table = message.table ?? DEFAULT_TABLE;
    const key = logicalKey(message, options.keyNames(table));
    const id = itemId(table, key.partitionKey, key.sortKey);
    let item = items.get(id);
    if (item === undefined) {
      item = {
        table,
        tableName: write.tableName,
        partitionKey: key.partitionKey,
        sortKey: key.sortKey ?? '',
        count: 0,
        units: 0,
        guarded: 0,
      };
      items.set(id, item);
    }
    item.count++;
    item.units += write.writeUnits;
    if (write.kind === 'guardedPut') item.guarded++;
  }
  return { items, valid, rejected, itemBytes };
}

export function itemId(table: string, partitionKey: string, sortKey: string | undefined): string {
  return `${table}\u0000${partitionKey}\u0000${sortKey ?? ''}`;
}

/** The logical partition and sort key values a message writes, as text. */
export function logicalKey(
  message: Message,
  names: { readonly partitionKey: string; readonly sortKey?: string },
): { partitionKey: string; sortKey?: string } {
  const attributes: Readonly<Record<string, unknown>> = message.op === 'put' ? message.item : message.key;
  const sortKey = names.sortKey === undefined ? undefined : attributes[names.sortKey];
  return {
    partitionKey: String(attributes[names.partitionKey]),
    ...(sortKey === undefined ? {} : { sortKey: String(sortKey) }),
  };
}

/** Partition keys the sample only appends to: unversioned puts, each sort key once. */
export function appendOnlyPartitions(
  writes: readonly SampleWrite[],
  keyNames: KeyNames,
): Map<string, boolean> {
  const seen = new Set<string>();
  const appendOnly = new Map<string, boolean>();
  for (const { message } of writes) {
    const table = message.table ?? DEFAULT_TABLE;
    const key = logicalKey(message, keyNames(table));
    const id = itemId(table, key.partitionKey, key.sortKey);
    const appends = message.op === 'put' && message.version === undefined && !seen.has(id);
    seen.add(id);
    const partition = `${table}\u0000${key.partitionKey}`;
    appendOnly.set(partition, (appendOnly.get(partition) ?? true) && appends);
  }
  return appendOnly;
}
