import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { WriteStats } from './types.ts';

const COUNTS: ReadonlyArray<[keyof WriteStats, string]> = [
  ['written', 'ItemsWritten'],
  ['coalesced', 'WritesCoalesced'],
  ['stale', 'WritesStale'],
  ['rejected', 'WritesRejected'],
  ['retryableFailures', 'WritesRetryableFailed'],
  ['batchRequests', 'BatchWriteRequests'],
  ['conditionalRequests', 'ConditionalWriteRequests'],
  ['unprocessedRetried', 'UnprocessedItemsRetried'],
  ['throttles', 'Throttles'],
  ['transientErrors', 'TransientErrors'],
];

/** Adds one call's counters to Powertools Metrics (flushed as EMF by `logMetrics` or `publishStoredMetrics`). */
export function publishWriteStats(metrics: Metrics, stats: WriteStats): void {
  for (const [field, name] of COUNTS) metrics.addMetric(name, MetricUnit.Count, stats[field]);
  metrics.addMetric('ConsumedWriteCapacity', MetricUnit.Count, stats.consumedWriteCapacity);
}
