/**
 * Write-path settings shared by the CDK construct (infra/) and the local event-source poller
 * (shared/local/), so that what runs locally is what gets deployed.
 */
export const writePathSettings = {
  table: {
    /** Partition key attribute of the data table (string). */
    partitionKey: 'pk',
    /** Sort key attribute of the data table (string). */
    sortKey: 'sk',
    /** Attribute that stores the version of a version-guarded write. */
    versionAttribute: '_version',
    /** Attribute set to `true` on a tombstone left by a versioned delete. */
    deletedAttribute: '_deleted',
    /** TTL attribute (epoch seconds) that lets DynamoDB expire tombstones. */
    ttlAttribute: '_expiresAt',
    /** Tombstones outlive SQS's longest retention (14 days), so no redelivery can resurrect a deleted item. */
    tombstoneTtlDays: 15,
  },
  function: {
    /** Lambda timeout. */
    timeoutSeconds: 60,
    memoryMiB: 1024,
    /** WriteBatcher stops retrying this long before the Lambda deadline. */
    deadlineMarginMs: 1500,
    /** Most DynamoDB requests in flight at once per invocation. */
    maxConcurrency: 8,
  },
  eventSource: {
    /** Records per invocation (standard queues; FIFO queues are capped at 10). */
    batchSize: 1000,
    /** How long Lambda gathers records before invoking. */
    maxBatchingWindowSeconds: 1,
    /** Most concurrent invocations the event source drives (2..1000). */
    maxConcurrency: 10,
  },
  queue: {
    /** Receives before SQS moves a message to the DLQ. */
    maxReceiveCount: 5,
    /** AWS's guidance: at least 6× the function timeout. */
    visibilityTimeoutSeconds: 6 * 60,
    retentionDays: 14,
  },
} as const;

export type WritePathSettings = typeof writePathSettings;
