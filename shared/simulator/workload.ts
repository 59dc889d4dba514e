/**
 * The workload as the simulator sees it: counts, not messages. Measured on a sample with the
 * `pipeline advise` analyzer (routing, rejects, write units per message) and its batch replay
 * (coalescing per batch at several batch sizes, write units per physical partition key, shards
 * included), so the model needs no per-message work at any rate.
 */

import { PipelineError } from '../core/errors.ts';
import { analyzeWorkload } from '../pipeline/capacity/analyze.ts';
import { measureMessages, type SampleWrite } from '../pipeline/capacity/items.ts';
import type { SampleRecord } from '../pipeline/capacity/sample.ts';
import { replayBatches } from '../pipeline/capacity/simulate.ts';
import { Router, type RoutesConfig } from '../pipeline/routing.ts';
import { writePathSettings } from '../pipeline/settings.ts';
import { shardOfSortKey } from '../pipeline/sharding.ts';
import { InvalidWorkloadError } from './errors.ts';

export interface SimWorkload {
  /** Share of messages the batch writer dead-letters at once (bad shape, unknown table…). */
  readonly invalidShare: number;
  /** Share of valid writes that are version-guarded (sent as transactions). */
  readonly guardedShare: number;
  /** Write units of one valid write sent alone. */
  readonly unitsPerWrite: number;
  /** Share of a batch's valid writes coalescing removes, at increasing batch sizes (interpolated between). */
  readonly duplicates: readonly { readonly batchSize: number; readonly ratio: number }[];
  /** The hottest physical partition keys, each with its share of the write units (after coalescing). */
  readonly hotKeys: readonly { readonly key: string; readonly share: number }[];
  /** Share of the units on keys outside `hotKeys` (each no hotter than the last of them). */
  readonly tailShare: number;
}

/** Hot keys kept: a key outside them is taken to stay under the partition limit. */
const HOT_KEYS = 64;
const BATCH_SIZES = [1, 10, 100, 1000, 10_000] as const;

/** A uniform workload of `units` write units per message, no duplicates, no hot key: for tests and what-ifs. */
export function uniformWorkload(options: { readonly unitsPerWrite?: number } = {}): SimWorkload {
  return {
    invalidShare: 0,
    guardedShare: 0,
    unitsPerWrite: options.unitsPerWrite ?? 1,
    duplicates: [{ batchSize: 1, ratio: 0 }],
    hotKeys: [],
    tailShare: 1,
  };
}

export interface SampleWorkloadOptions {
  readonly routes?: RoutesConfig;
  readonly versionedWrites?: 'transaction' | 'conditional-put';
  /** The batch size the hot keys are tallied at (the simulated batch). @default 1000 */
  readonly batchSize?: number;
}

/**
 * Measures a workload sample (contract-v1 writes, as `pipeline advise` reads them).
 *
 * @throws InvalidWorkloadError when the sample holds no write the batch writer would accept.
 */
export function workloadFromSample(
  records: readonly SampleRecord[],
  options: SampleWorkloadOptions = {},
): SimWorkload {
  const writes = records.filter((r): r is SampleWrite => r.kind === 'write');
  if (writes.length === 0) throw new InvalidWorkloadError('the sample has no write messages');
  const versionedWrites = options.versionedWrites ?? 'transaction';
  let routes: RoutesConfig;
  try {
    routes = analyzeWorkload(writes, {
      rate: 1,
      versionedWrites,
      ...(options.routes ? { routes: options.routes } : {}),
    }).routes;
  } catch (cause) {
    if (!(cause instanceof PipelineError)) throw cause;
    throw new InvalidWorkloadError(cause.message, { cause });
  }
  const keyNames = (table: string) => routes[table] ?? writePathSettings.table;
  const replayOptions = {
    router: new Router(routes, { random: () => 0 }),
    keyNames,
    versionedWrites,
    now: 0,
  };
  const costs = measureMessages(writes, replayOptions);
  if (costs.valid === 0) throw new InvalidWorkloadError('the batch writer would reject every write in it');
  let unitsAlone = 0;
  let guarded = 0;
  for (const item of costs.items.values()) {
    unitsAlone += item.units;
    guarded += item.guarded;
  }
  const duplicates = BATCH_SIZES.filter((b, i) => i === 0 || b <= writes.length).map((batchSize) => {
    const replay = replayBatches(writes, batchSize, replayOptions);
    return { batchSize, ratio: replay.valid === 0 ? 0 : replay.coalesced / replay.valid };
  });
  const batchSize = Math.min(options.batchSize ?? writePathSettings.eventSource.batchSize, writes.length);
  const replay = replayBatches(writes, batchSize, replayOptions);
  const byKey = new Map<string, number>();
  for (const tally of replay.partitions.values()) {
    const spec = routes[tally.table]?.shards?.[tally.partitionKey];
    const base = `${tally.tableName}/${tally.partitionKey}`;
    if (spec === undefined) byKey.set(base, (byKey.get(base) ?? 0) + tally.units);
    else if (spec.by === 'roundRobin')
      for (let s = 0; s < spec.count; s++) bump(byKey, `${base}#${s}`, tally.units / spec.count);
    else
      for (const [sk, units] of tally.bySortKey)
        bump(byKey, `${base}#${shardOfSortKey(sk, spec.count)}`, units);
  }
  const hotKeys = [...byKey]
    .sort((a, b) => b[1] - a[1])
    .slice(0, HOT_KEYS)
    .map(([key, units]) => ({ key, share: units / replay.units }));
  return {
    invalidShare: (writes.length - costs.valid) / writes.length,
    guardedShare: guarded / costs.valid,
    unitsPerWrite: unitsAlone / costs.valid,
    duplicates,
    hotKeys,
    tailShare: Math.max(0, 1 - hotKeys.reduce((sum, k) => sum + k.share, 0)),
  };
}

/** The duplicate ratio at `batchSize`, interpolated on log(batch size) between the measured points. */
export function duplicateRatioAt(workload: SimWorkload, batchSize: number): number {
  const points = workload.duplicates;
  if (batchSize <= points[0]!.batchSize) return points[0]!.ratio;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (batchSize <= b.batchSize) {
      const t = Math.log(batchSize / a.batchSize) / Math.log(b.batchSize / a.batchSize);
      return a.ratio + t * (b.ratio - a.ratio);
    }
  }
  return points[points.length - 1]!.ratio;
}

function bump(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}
