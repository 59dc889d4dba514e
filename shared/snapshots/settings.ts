/**
 * Snapshot store settings shared by the CDK construct (infra/), the local stack and the library,
 * so that the table created locally is the table that gets deployed.
 */
export const snapshotSettings = {
  table: {
    /** Partition key: the snapshot name. */
    partitionKey: 'pk',
    /** Sort key: `pointer`, `seq`, `m#<version>` (manifest) or `c#<version>#<index>` (chunk). */
    sortKey: 'sk',
  },
  /** Name of the pipeline's own configuration snapshot. */
  defaultName: 'pipeline',
  /** Bytes of compressed content per chunk item: well below DynamoDB's 400 KB item limit. */
  chunkBytes: 350_000,
  /** Largest document (uncompressed JSON bytes) a publisher accepts and a reader inflates. */
  maxDocumentBytes: 64 * 1024 * 1024,
  /** Readers check the pointer again once their snapshot is this old. */
  maxAgeMs: 30_000,
  publisher: {
    /** Lambda timeout. */
    timeoutSeconds: 120,
    /** Memory (and CPU) for compressing large documents. */
    memoryMiB: 1024,
    /** Publish attempts per SQS batch when racing another publisher (each rebases on the winner). */
    maxAttempts: 5,
    /** Records per invocation: a FIFO queue's maximum. */
    batchSize: 10,
    /** Receives before a change that keeps failing moves to the DLQ. */
    maxReceiveCount: 5,
    /** Most concurrent publisher invocations the event source drives: SQS's minimum. */
    maxConcurrency: 2,
  },
} as const;

/** Names a snapshot may have: they are partition keys and appear in logs and CLI arguments. */
export const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
