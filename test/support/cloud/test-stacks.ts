/**
 * The stacks of the test app (`test-app.ts`, synthesized into `cdk.out.test` by the integration
 * setup) and the settings the tests rely on. Plain values, so a test can read them without building
 * the app.
 */
export const testStacks = {
  /** The write path on a standard queue, with a function timeout short enough for redelivery tests. */
  standard: 'StandardWritePath',
  /** The same on FIFO queues. */
  fifo: 'FifoWritePath',
  /** Tables the routed write path may route to (`dataTables`), and one it may not. */
  dataTables: 'RoutedDataTables',
  /** A write path granted `dataTables`, following its config snapshot closely. */
  routed: 'RoutedWritePath',
} as const;

export type TestStackKind = Exclude<keyof typeof testStacks, 'dataTables'>;

export const testStackSettings = {
  /** Batch-writer timeout. */
  timeoutSeconds: 10,
  /**
   * The batch writer stops retrying this long before its deadline. Locally the event source's
   * timeout also covers a cold start (on Lambda it does not), so a margin above the deployed 1.5 s
   * keeps a cold invocation that retries to its deadline inside the timeout.
   */
  deadlineMarginMs: 3_000,
  /**
   * Ingest queue visibility timeout: the construct's minimum, 6 × the timeout (its default would be
   * the deployed 360 s). A batch item that fails is received again this long after its receive.
   */
  visibilityTimeoutSeconds: 60,
  /** Receives before SQS moves a message to the DLQ (the deployed default). */
  maxReceiveCount: 5,
  /** Event source (standard queues): records per invocation, concurrent invocations. */
  batchSize: 100,
  maxConcurrency: 4,
  /** The routed write path's snapshot max age: a published change is adopted after this. */
  snapshotMaxAgeMs: 100,
} as const;
