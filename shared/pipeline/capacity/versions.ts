/** Version disorder in a sample: versioned writes that arrive behind a higher (or equal) version of their item. */

import { DEFAULT_TABLE } from '../../contract/index.ts';
import { logicalKey, type SampleWrite } from './items.ts';
import { round } from './stats.ts';

export interface VersionDisorder {
  /** Writes that carry a version. */
  readonly versioned: number;
  /** Versioned writes that arrived after a higher version of their item: stale when they land. */
  readonly outOfOrder: number;
  /** Versioned writes that repeat the highest version seen so far (redeliveries, duplicates). */
  readonly repeated: number;
  /** outOfOrder / versioned. */
  readonly outOfOrderRatio: number;
  /** Largest (highest version seen − version) of an out-of-order write. */
  readonly maxLag: number;
}

/** Walks the writes in arrival order, keeping the highest version seen per logical item. */
export function versionDisorder(
  writes: readonly SampleWrite[],
  keyNames: (table: string) => { readonly partitionKey: string; readonly sortKey?: string },
): VersionDisorder {
  const highest = new Map<string, number>();
  let versioned = 0;
  let outOfOrder = 0;
  let repeated = 0;
  let maxLag = 0;
  for (const { message } of writes) {
    if (message.version === undefined) continue;
    versioned++;
    const table = message.table ?? DEFAULT_TABLE;
    const key = logicalKey(message, keyNames(table));
    const id = `${table}\u0000${key.partitionKey}\u0000${key.sortKey ?? ''}`;
    const seen = highest.get(id);
    if (seen === undefined || message.version > seen) {
      highest.set(id, message.version);
    } else if (message.version === seen) {
      repeated++;
    } else {
      outOfOrder++;
      maxLag = Math.max(maxLag, seen - message.version);
    }
  }
  return {
    versioned,
    outOfOrder,
    repeated,
    outOfOrderRatio: versioned === 0 ? 0 : round(outOfOrder / versioned, 4),
    maxLag,
  };
}
