/**
 * The advice document `pipeline advise --json` prints: one object whose fields are a contract
 * (`schemaVersion` 1). Numbers are rounded for reading; every recommendation carries its `driver`.
 */

import type { WorkloadAnalysis } from '../../pipeline/capacity/analyze.ts';
import { adviseAssumptions, awsLimits } from '../../pipeline/capacity/limits.ts';
import type { Recommendations } from '../../pipeline/capacity/recommend-types.ts';
import type { SampleInput } from './input.ts';

export const ADVICE_SCHEMA_VERSION = 1;

export type Advice = ReturnType<typeof adviceDocument>;

/** The analysis and recommendations as the JSON document (and the source of the table and report). */
export function adviceDocument(input: SampleInput, a: WorkloadAnalysis, recommendations: Recommendations) {
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
    duplicates: {
      ratio: a.chosen.duplicateRatio,
      batchSize: a.chosen.batchSize,
      windowSeconds: a.chosen.windowSeconds,
      byWindow: a.windows,
    },
    versions: a.versions,
    messageBytes: a.messageBytes,
    itemBytes: a.itemBytes,
    itemBytesHistogram: a.itemBytesHistogram,
    writeUnits: a.writeUnits,
    requestsPerBatch: a.requestsPerBatch,
    tables: a.tables,
    reads: a.reads ?? null,
    rejected: a.sample.rejected,
    hotPartitions: a.hotPartitions,
    recommendations,
    assumptions: { ...awsLimits, ...adviseAssumptions },
    notes: a.notes,
  };
}
