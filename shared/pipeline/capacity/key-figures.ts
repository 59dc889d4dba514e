/** Distinct keys, the Shannon entropy of their distribution and the hottest shares, for items and partition keys. */

import type { ItemTally } from './items.ts';
import { bump, normalizedEntropy, round, shannonEntropyBits, topEntries } from './stats.ts';

export type KeyName = { readonly table: string; readonly partitionKey: string; readonly sortKey?: string };

export interface KeyFigures {
  readonly distinct: number;
  /** Shannon entropy (bits, base 2) of the valid writes' distribution over these keys. */
  readonly entropyBits: number;
  /** entropyBits / log2(distinct): 1 is uniform (1 also for a single key). */
  readonly normalizedEntropy: number;
  /** Share of valid writes the hottest one takes. */
  readonly hottestShare: number;
  readonly top: readonly (KeyName & { readonly share: number })[];
}

/** Figures over full keys (table, partition key, sort key) and over partition keys alone. */
export function keyFigures(
  items: Iterable<ItemTally>,
  top: number,
  total: number,
): { keys: KeyFigures; partitions: KeyFigures } {
  const itemCounts = new Map<KeyName, number>();
  const partitionCounts = new Map<string, number>();
  const partitionNames = new Map<string, KeyName>();
  for (const item of items) {
    itemCounts.set({ table: item.table, partitionKey: item.partitionKey, sortKey: item.sortKey }, item.count);
    const id = `${item.table}\u0000${item.partitionKey}`;
    bump(partitionCounts, id, item.count);
    if (!partitionNames.has(id))
      partitionNames.set(id, { table: item.table, partitionKey: item.partitionKey });
  }
  const named = new Map([...partitionCounts].map(([id, count]) => [partitionNames.get(id)!, count]));
  return { keys: figures(itemCounts, top, total), partitions: figures(named, top, total) };
}

function figures(counts: ReadonlyMap<KeyName, number>, top: number, total: number): KeyFigures {
  const entropyBits = shannonEntropyBits(counts.values());
  const hottest = topEntries(counts, top);
  return {
    distinct: counts.size,
    entropyBits: round(entropyBits, 4),
    normalizedEntropy: round(normalizedEntropy(entropyBits, counts.size), 4),
    hottestShare: round((hottest[0]?.[1] ?? 0) / total, 4),
    top: hottest.map(([name, count]) => ({ ...name, share: round(count / total, 4) })),
  };
}
