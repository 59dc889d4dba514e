/**
 * The metrics a WriteBatcher with `metrics` adds for each call (all `Count`), by name: the names the
 * dashboard graphs. `publishWriteStats` emits exactly these (a test holds the two together).
 * `StaleVersionLag` is a per-call maximum (graph its Maximum, not its Sum); the others are counts.
 */
export const WRITE_BATCHER_METRICS = {
  ItemsWritten: 'ItemsWritten',
  WritesCoalesced: 'WritesCoalesced',
  WritesStale: 'WritesStale',
  WritesRejected: 'WritesRejected',
  WritesRetryableFailed: 'WritesRetryableFailed',
  BatchWriteRequests: 'BatchWriteRequests',
  ConditionalWriteRequests: 'ConditionalWriteRequests',
  UnprocessedItemsRetried: 'UnprocessedItemsRetried',
  Throttles: 'Throttles',
  TransientErrors: 'TransientErrors',
  ConsumedWriteCapacity: 'ConsumedWriteCapacity',
  StaleVersionLag: 'StaleVersionLag',
} as const;
