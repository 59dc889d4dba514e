import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { WRITE_BATCHER_METRICS as M } from './metric-names.ts';
import type { WriteStats } from './types.ts';

const COUNTS: ReadonlyArray<[keyof WriteStats, string]> = [
  ['written', M.ItemsWritten],
  ['coalesced', M.WritesCoalesced],
  ['stale', M.WritesStale],
  ['rejected', M.WritesRejected],
  ['retryableFailures', M.WritesRetryableFailed],
  ['batchRequests', M.BatchWriteRequests],
  ['conditionalRequests', M.ConditionalWriteRequests],
  ['unprocessedRetried', M.UnprocessedItemsRetried],
  ['throttles', M.Throttles],
  ['transientErrors', M.TransientErrors],
  ['consumedWriteCapacity', M.ConsumedWriteCapacity],
  ['staleVersionLag', M.StaleVersionLag],
];

/** Adds one call's counters to Powertools Metrics (flushed as EMF by `logMetrics` or `publishStoredMetrics`). */
export function publishWriteStats(metrics: Metrics, stats: WriteStats): void {
  for (const [field, name] of COUNTS) metrics.addMetric(name, MetricUnit.Count, stats[field]);
}
