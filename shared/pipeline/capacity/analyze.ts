/**
 * The figures `pipeline advise` measures on a workload sample: rate and burstiness, keys and
 * partitions (distinct, entropy, hottest shares), duplicates within a batch, version disorder, item
 * sizes, reads, and the hot partitions at the target rate.
 */

import { DEFAULT_TABLE } from '../../contract/index.ts';
import { Router, type RoutesConfig } from '../routing.ts';
import { writePathSettings } from '../settings.ts';
import { InvalidAdviseOptionError } from './errors.ts';
import { appendOnlyPartitions, type KeyNames, measureMessages, type SampleWrite } from './items.ts';
import { type KeyFigures, type KeyName, keyFigures } from './key-figures.ts';
import { adviseAssumptions, awsLimits } from './limits.ts';
import { findHotPartitions, type HotPartition } from './partitions.ts';
import { type ObservedRate, observedRate } from './rate.ts';
import type { SampleRecord } from './sample.ts';
import { largestBatch, partitionLoads, replayBatches, requestsPerBatch } from './simulate.ts';
import { type Distribution, distributionOf, histogram, round } from './stats.ts';
import { type VersionDisorder, versionDisorder } from './versions.ts';

export interface AnalyzeOptions {
  /** Target ingest rate, messages/s. @default the sample's own (needs a `sentAt` on every line) */
  readonly rate?: number;
  /** The pipeline's routing (key names, ops, shards). @default every logical table with string keys pk, sk */
  readonly routes?: RoutesConfig;
  /** As the WriteBatcher's option. @default 'transaction' */
  readonly versionedWrites?: 'transaction' | 'conditional-put';
  /** Hottest keys and partitions listed. @default 5 */
  readonly top?: number;
  /**
   * A rate observed outside the sample (a queue's CloudWatch figures): its mean is the target
   * unless `rate` is given, and its burstiness replaces the sample's. @default the sample's timestamps
   */
  readonly externalRate?: ExternalRate;
  /** Clock for tombstone expiry in the dry runs (it changes a tombstone's size by a byte at most). @default 0 */
  readonly now?: number;
}

/** A rate measured outside the sample, such as a queue's messages sent per minute. */
export interface ExternalRate {
  /** Where it was measured (for the notes), e.g. `queue pipeline-ingest`. */
  readonly source: string;
  readonly meanPerSec: number;
  /** Peak over mean, at the resolution the source has (a minute for CloudWatch). */
  readonly burstiness: number;
}

export interface BatchWindowFigure {
  readonly windowSeconds: number;
  /** Messages one poller gathers in the window at the target rate (`rate × window / sqsPollers`). */
  readonly batchSize: number;
  /**
   * The same at the rate the sample's order stands for (its own, from sentAt; else the target):
   * the size of the consecutive batches it was replayed in.
   */
  readonly replayBatchSize: number;
  /** Share of valid writes coalescing removed in the replay. */
  readonly duplicateRatio: number;
}

export interface WorkloadAnalysis {
  readonly sample: {
    readonly writes: number;
    readonly reads: number;
    readonly timestamps: boolean;
    /** Messages the batch writer would dead-letter, by error code. */
    readonly rejected: Readonly<Record<string, number>>;
  };
  readonly rate: number;
  /** `--rate`, the sample's timestamps, or an external rate (`options.externalRate`). */
  readonly rateSource: 'flag' | 'sample' | 'external';
  readonly observed?: ObservedRate;
  /** Peak second over the mean; 1 without timestamps. */
  readonly burstiness: number;
  readonly keys: KeyFigures;
  readonly partitions: KeyFigures;
  readonly versions: VersionDisorder;
  readonly messageBytes: Distribution;
  readonly itemBytes: Distribution;
  readonly itemBytesHistogram: readonly {
    readonly fromBytes: number;
    readonly toBytes: number;
    readonly count: number;
  }[];
  /** Largest batch Lambda's payload limit allows for these message sizes. */
  readonly payloadBatchSize: number;
  readonly windows: readonly BatchWindowFigure[];
  /** The window chosen: the shortest whose longer successors save less than `windowStepGain` more. */
  readonly chosen: BatchWindowFigure;
  /** The chosen window's batch at the peak (`batchSize × burstiness`), capped by the payload limit. */
  readonly peakBatchSize: number;
  readonly writeUnits: { readonly perMessage: number; readonly perSec: number; readonly peakPerSec: number };
  readonly requestsPerBatch: { readonly batchWrite: number; readonly guarded: number };
  /** Per physical table, at the target rate and at the peak. */
  readonly tables: readonly {
    readonly table: string;
    readonly writeUnitsPerSec: number;
    readonly peakWriteUnitsPerSec: number;
  }[];
  readonly reads?: { readonly perSec: number; readonly readWriteRatio: number };
  readonly hotPartitions: readonly HotPartition[];
  /** The recommended batch's worth of consecutive writes with the most body bytes: what the heap is measured on. */
  readonly largestBatch: readonly SampleWrite[];
  /** The routing used: `options.routes`, or the default one built for the sample's tables. */
  readonly routes: RoutesConfig;
  readonly notes: readonly string[];
}

/** Measures a sample; throws `InvalidAdviseOptionError` when the rate is neither given nor measurable. */
export function analyzeWorkload(
  records: readonly SampleRecord[],
  options: AnalyzeOptions = {},
): WorkloadAnalysis {
  const notes: string[] = [];
  const all = [...records];
  const timestamps = all.length > 0 && all.every((r) => r.at !== undefined);
  if (!timestamps && all.some((r) => r.at !== undefined))
    notes.push('only some lines carry sentAt: timestamps ignored, sample taken in file order');
  if (timestamps) all.sort((a, b) => a.at! - b.at!);
  const writes = all.filter((r): r is SampleWrite => r.kind === 'write');
  const reads = all.length - writes.length;
  if (writes.length === 0)
    throw new InvalidAdviseOptionError('sample', 0, 'it has no write messages to analyse');

  const external = options.externalRate;
  const observed = timestamps && !external ? observedRate(writes.map((w) => w.at!)) : undefined;
  if (timestamps && external)
    notes.push(`rate and burstiness from ${external.source}; the sample's own timestamps ignored`);
  const rate = options.rate ?? external?.meanPerSec ?? observed?.meanPerSec;
  if (rate === undefined)
    throw new InvalidAdviseOptionError(
      'rate',
      'unknown',
      'the sample has no sentAt timestamps: pass --rate <messages/s>',
    );
  if (!(rate > 0) || !Number.isFinite(rate))
    throw new InvalidAdviseOptionError('rate', rate, 'use a number > 0');
  const burstiness = external?.burstiness ?? observed?.burstiness ?? 1;
  if (!observed && !external) notes.push('no timestamps: burstiness unknown, figures assume a steady rate');

  const routes =
    options.routes ?? defaultRoutes([...new Set(writes.map((w) => w.message.table ?? DEFAULT_TABLE))]);
  if (options.routes === undefined)
    notes.push('no --routes: every logical table taken to have string keys pk, sk');
  const keyNames: KeyNames = (table) => routes[table] ?? writePathSettings.table;
  const router = new Router(routes, { random: () => 0 });
  const versionedWrites = options.versionedWrites ?? 'transaction';
  const now = options.now ?? 0;
  const costs = measureMessages(writes, { router, keyNames, versionedWrites, now });
  if (costs.valid === 0)
    throw new InvalidAdviseOptionError('sample', 0, 'the batch writer would reject every write in it');

  const messageBytes = distributionOf(writes.map((w) => w.bodyBytes));
  const perRecord = messageBytes.p99 + adviseAssumptions.sqsRecordOverheadBytes;
  const payloadBatchSize = clamp(
    Math.floor((awsLimits.lambdaPayloadBytes * adviseAssumptions.payloadHeadroom) / perRecord),
    1,
    awsLimits.maxBatchSize,
  );
  const n = writes.length;
  // With timestamps the sample's order stands for its own rate, and a window's batch is what one
  // poller gathered then; the key population is taken to grow with the rate, so coalescing per
  // batch holds and everything after it scales linearly. Without, its order stands for the target.
  const orderRate = observed?.meanPerSec ?? rate;
  if (!observed)
    notes.push(
      "no timestamps: the sample's order taken to arrive at the target rate (its keys are all the keys)",
    );
  const P = adviseAssumptions.sqsPollers;
  const replayOptions = { router, keyNames, versionedWrites, now };
  const runs = adviseAssumptions.candidateWindowsSeconds.map((windowSeconds) => {
    const replayBatchSize = Math.max(1, Math.ceil((orderRate * windowSeconds) / P));
    const replay = replayBatches(writes, replayBatchSize, replayOptions);
    const figure: BatchWindowFigure = {
      windowSeconds,
      batchSize: clamp(
        Math.ceil((rate * windowSeconds) / P),
        Math.min(adviseAssumptions.minBatchSize, payloadBatchSize),
        payloadBatchSize,
      ),
      replayBatchSize,
      duplicateRatio: round(replay.valid === 0 ? 0 : replay.coalesced / replay.valid, 4),
    };
    return { figure, replay };
  });
  let pick = 0;
  for (let i = 1; i < runs.length; i++) {
    if (
      runs[i]!.figure.duplicateRatio - runs[pick]!.figure.duplicateRatio >=
      adviseAssumptions.windowStepGain
    )
      pick = i;
  }
  const { figure: chosen, replay } = runs[pick]!;
  if (n < MIN_REPLAY_BATCHES * chosen.replayBatchSize) {
    notes.push(
      `the sample (${n} writes) holds fewer than ${MIN_REPLAY_BATCHES} batches of ${chosen.replayBatchSize}: its duplicate ratio rests on few batches`,
    );
  }
  const perSec = (units: number) => (units / n) * rate;
  const peakBatchSize = clamp(Math.ceil(chosen.batchSize * burstiness), chosen.batchSize, payloadBatchSize);

  const partitions = partitionLoads(replay.partitions, perSec);
  const appendOnly = appendOnlyPartitions(writes, keyNames);
  const hotPartitions = findHotPartitions({
    partitions: partitions.values(),
    burstiness,
    shardOf: (table, pk) => {
      const shards = routes[table]?.shards;
      return shards && Object.hasOwn(shards, pk) ? shards[pk] : undefined;
    },
    appendOnly: (table, pk) => {
      const ops = routes[table]?.ops ?? [];
      return ops.length === 1 && ops[0] === 'put' && appendOnly.get(`${table}\u0000${pk}`) === true;
    },
  });
  const keys = keyFigures(costs.items.values(), options.top ?? 5, costs.valid);
  return {
    sample: { writes: n, reads, timestamps, rejected: costs.rejected },
    rate,
    rateSource: options.rate !== undefined ? 'flag' : external ? 'external' : 'sample',
    ...(observed ? { observed } : {}),
    burstiness,
    keys: keys.keys,
    partitions: keys.partitions,
    versions: versionDisorder(writes, keyNames),
    messageBytes,
    itemBytes: distributionOf(costs.itemBytes),
    itemBytesHistogram: histogram(costs.itemBytes),
    payloadBatchSize,
    windows: runs.map((r) => r.figure),
    chosen,
    peakBatchSize,
    writeUnits: {
      perMessage: round(replay.units / n),
      perSec: round(perSec(replay.units), 1),
      peakPerSec: round(perSec(replay.units) * burstiness, 1),
    },
    requestsPerBatch: requestsPerBatch(replay, n, chosen.batchSize, versionedWrites),
    tables: [...replay.unitsByTable].map(([table, units]) => ({
      table,
      writeUnitsPerSec: round(perSec(units), 1),
      peakWriteUnitsPerSec: round(perSec(units) * burstiness, 1),
    })),
    ...(reads > 0
      ? { reads: { perSec: round((reads / n) * rate, 1), readWriteRatio: round(reads / n, 4) } }
      : {}),
    hotPartitions,
    largestBatch: largestBatch(writes, peakBatchSize),
    routes,
    notes,
  };
}

function defaultRoutes(tables: readonly string[]): RoutesConfig {
  const { partitionKey, sortKey } = writePathSettings.table;
  return Object.fromEntries(
    tables.map((table) => [
      table,
      {
        tableName: table,
        partitionKey,
        sortKey,
        keyType: 'S' as const,
        ops: ['put' as const, 'delete' as const],
      },
    ]),
  );
}

/** A sample should hold this many batches for its duplicate ratio to rest on more than a few. */
const MIN_REPLAY_BATCHES = 3;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export type { KeyFigures, KeyName };
