/**
 * The advice document `pipeline advise --json` prints: one object whose fields are a contract
 * (`schemaVersion` 1). Numbers are rounded for reading; every recommendation carries its `driver`.
 */

import type { WorkloadAnalysis } from '../../pipeline/capacity/analyze.ts';
import { adviseAssumptions, awsLimits } from '../../pipeline/capacity/limits.ts';
import type { Recommendations } from '../../pipeline/capacity/recommend-types.ts';
import type { SampleInput } from './input.ts';
import type { LiveFigures } from './live.ts';

/** Why a sample that holds each item once (a table scan) measures neither duplicates nor version order. */
export const NOT_MEASURABLE_FROM_SCAN =
  'not measurable from a table scan: it sees each item once, in its latest state';

export const ADVICE_SCHEMA_VERSION = 1;

export type Advice = ReturnType<typeof adviceDocument>;

/** The analysis and recommendations as the JSON document (and the source of the table and report). */
export function adviceDocument(
  input: SampleInput,
  a: WorkloadAnalysis,
  recommendations: Recommendations,
  extra: { readonly live?: LiveFigures; readonly notes?: readonly string[] } = {},
) {
  const once = input.eachItemOnce === true;
  return {
    schemaVersion: ADVICE_SCHEMA_VERSION,
    source: {
      name: input.name,
      lines: input.lines,
      writes: a.sample.writes,
      reads: a.sample.reads,
      badLines: input.badLines,
      badLineSamples: input.badLineSamples,
      timestamps: a.sample.timestamps,
    },
    rate: a.rate,
    rateSource: a.rateSource,
    observed: a.observed ?? null,
    burstiness: a.burstiness,
    keys: a.keys,
    partitions: a.partitions,
    duplicates: once
      ? {
          measurable: false as const,
          reason: NOT_MEASURABLE_FROM_SCAN,
          ratio: null,
          batchSize: a.chosen.batchSize,
          windowSeconds: a.chosen.windowSeconds,
          byWindow: [],
        }
      : {
          measurable: true as const,
          ratio: a.chosen.duplicateRatio,
          batchSize: a.chosen.batchSize,
          windowSeconds: a.chosen.windowSeconds,
          byWindow: a.windows,
        },
    versions: once
      ? { measurable: false as const, reason: NOT_MEASURABLE_FROM_SCAN, versioned: a.versions.versioned }
      : { measurable: true as const, ...a.versions },
    live: extra.live ?? null,
    messageBytes: a.messageBytes,
    itemBytes: a.itemBytes,
    itemBytesHistogram: a.itemBytesHistogram,
    writeUnits: a.writeUnits,
    requestsPerBatch: a.requestsPerBatch,
    tables: a.tables,
    reads: a.reads ?? null,
    rejected: a.sample.rejected,
    hotPartitions: a.hotPartitions,
    recommendations: once ? scanRecommendations(recommendations) : recommendations,
    assumptions: { ...awsLimits, ...adviseAssumptions },
    notes: [...a.notes, ...(extra.notes ?? [])],
  };
}

/** A scan's duplicate ratio is 0 by construction: the coalescing advice says so instead of citing it. */
function scanRecommendations(r: Recommendations): Recommendations {
  return {
    ...r,
    coalescing: {
      ...r.coalescing,
      reason: `duplicates are ${NOT_MEASURABLE_FROM_SCAN}: none assumed, so coalescing is not counted on (measure a JSONL sample of the messages for it)`,
    },
  };
}
