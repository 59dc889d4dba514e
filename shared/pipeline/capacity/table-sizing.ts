/** Recommendations about the table: coalescing, sharding of hot partitions, warm throughput for a launch. */

import type { WorkloadAnalysis } from './analyze.ts';
import { fmt, pct } from './format.ts';
import { adviseAssumptions as A, awsLimits as L } from './limits.ts';
import type { Recommendations } from './recommend-types.ts';
import { round } from './stats.ts';

export function coalescingOf(a: WorkloadAnalysis): Recommendations['coalescing'] {
  const { duplicateRatio, batchSize, windowSeconds } = a.chosen;
  const pays = duplicateRatio >= A.coalescingPaysRatio;
  const valid = a.sample.writes - Object.values(a.sample.rejected).reduce((s, n) => s + n, 0);
  const savedWritesPerSec = round(duplicateRatio * (valid / a.sample.writes) * a.rate, 1);
  return {
    pays,
    duplicateRatio,
    savedWritesPerSec,
    driver: { figure: 'duplicate ratio within a batch', value: duplicateRatio, unit: 'share' },
    reason: pays
      ? `${pct(duplicateRatio)} of writes in ${windowSeconds} s batches of ${fmt(batchSize)} repeat an item: coalescing removes ~${fmt(savedWritesPerSec)} writes/s`
      : `only ${pct(duplicateRatio)} of writes in ${windowSeconds} s batches of ${fmt(batchSize)} repeat an item: a longer window would not pay for its latency`,
  };
}

export function shardingOf(a: WorkloadAnalysis): Recommendations['sharding'] {
  const routes: Record<string, { shards: Record<string, { count: number; by: string }> }> = {};
  for (const hot of a.hotPartitions) {
    routes[hot.table] ??= { shards: {} };
    routes[hot.table]!.shards[hot.partitionKey] = { count: hot.shards, by: hot.by };
  }
  const worst = a.hotPartitions[0];
  if (worst === undefined) {
    const top = a.partitions.top[0];
    const topUnits = (top?.share ?? 0) * a.writeUnits.perSec;
    return {
      needed: false,
      routes,
      driver: {
        figure: 'hottest partition write units/s (estimated by share)',
        value: round(topUnits, 1),
        unit: 'WCU/s',
      },
      reason: `no partition key exceeds ${fmt(L.partitionWriteUnitsPerSec)} WCU/s at ${fmt(a.rate)} messages/s`,
    };
  }
  const unfixable = a.hotPartitions.filter((h) => !h.meetsLimit);
  return {
    needed: true,
    routes,
    driver: { figure: 'hottest partition write units/s', value: worst.writeUnitsPerSec, unit: 'WCU/s' },
    reason:
      `${a.hotPartitions.length} partition key(s) over ${fmt(L.partitionWriteUnitsPerSec)} WCU/s; "${worst.partitionKey}" needs ${fmt(worst.writeUnitsPerSec)} WCU/s: ${worst.shards} shards by ${worst.by} keep each under ${fmt(L.partitionWriteUnitsPerSec * A.shardHeadroom)}` +
      (unfixable.length > 0
        ? `; ${unfixable.map((h) => `"${h.partitionKey}"`).join(', ')} cannot get there: one item alone writes ${fmt(unfixable[0]!.hottestItem.writeUnitsPerSec)} WCU/s`
        : '') +
      (a.reads ? `; every read of a sharded key becomes one query per shard` : ''),
  };
}

export function warmThroughputOf(a: WorkloadAnalysis): Recommendations['warmThroughput'] {
  const floor = L.newTableWarmWriteUnitsPerSec;
  const tables = a.tables
    .filter((t) => t.peakWriteUnitsPerSec > floor)
    .map((t) => ({
      table: t.table,
      writeUnitsPerSecond: Math.ceil(t.peakWriteUnitsPerSec * A.warmThroughputHeadroom),
    }));
  const busiest = a.tables.reduce((m, t) => Math.max(m, t.peakWriteUnitsPerSec), 0);
  return {
    needed: tables.length > 0,
    tables,
    driver: { figure: 'peak table write units/s', value: busiest, unit: 'WCU/s' },
    reason:
      tables.length > 0
        ? `a launch at ${fmt(busiest)} WCU/s at the peak exceeds the ${fmt(floor)} a new on-demand table starts with: pre-warm to ${fmt(tables[0]!.writeUnitsPerSecond)} (×${A.warmThroughputHeadroom})`
        : `${fmt(busiest)} WCU/s at the peak fits in the ${fmt(floor)} a new on-demand table starts with`,
  };
}
