/**
 * GPU inference settings shared by the CDK stack (infra/), the dispatcher and the worker, so that
 * what runs locally is what gets deployed. Durations carry their unit in the name.
 */
export const inferenceSettings = {
  jobsTable: {
    /** Partition key of the jobs table (string): the request's `jobId`. */
    partitionKey: 'jobId',
    /** TTL attribute (epoch seconds): finished jobs expire this long after their last write. */
    ttlAttribute: 'expiresAt',
    retentionDays: 30,
  },
  /** The default model: built by `shared/local/model/build-model.ts`, baked into the worker image. */
  model: { name: 'shelf-classifier', version: '1' },
  workMessage: {
    /** Most jobs the dispatcher packs into one gpu-work message. */
    maxJobs: 16,
    /** Byte budget of one work message; a single larger job travels alone (SQS allows 1 MiB). */
    maxBytes: 256 * 1024,
  },
  dispatcher: {
    timeoutSeconds: 30,
    memoryMiB: 512,
    /** Records per invocation. */
    batchSize: 100,
    maxBatchingWindowSeconds: 1,
    /** Most concurrent invocations the event source drives (2..1000). */
    maxConcurrency: 5,
    /** How long a "the service has tasks" answer is trusted before DescribeServices is asked again. */
    scalerCacheMs: 30_000,
  },
  requestsQueue: {
    maxReceiveCount: 5,
    /** AWS's guidance: at least 6× the function timeout. */
    visibilityTimeoutSeconds: 6 * 30,
    retentionDays: 14,
  },
  worker: {
    /** Most jobs in one inference call. */
    maxBatch: 32,
    /** Longest a job waits for companions before a partial batch runs. */
    maxDelayMs: 10,
    /** SQS long-poll wait. */
    receiveWaitSeconds: 20,
    /** Jobs received but not finished (prefetch bound): keeps the GPU fed without hoarding messages. */
    maxInFlightJobs: 128,
    /** Longest one inference call may take before it is abandoned as hung. */
    maxBatchDurationMs: 120_000,
    /** Heartbeat period: in-flight messages get their visibility extended this often. */
    heartbeatIntervalMs: 60_000,
    /** ECS container stop timeout (SIGTERM → SIGKILL); the worker exits `stopMarginMs` before it. */
    stopTimeoutSeconds: 120,
    stopMarginMs: 10_000,
    /** nvidia-smi sampling period. */
    telemetryIntervalMs: 5_000,
    /** ECS task scale-in protection is requested for this long and renewed while busy. */
    taskProtectionMinutes: 15,
    /** Where readiness is reported for the container health check. */
    readyFile: '/tmp/gpu-worker.ready',
  },
  workQueue: {
    /**
     * Longer than the longest batch (`maxBatchDurationMs`) plus a heartbeat period, so a message is
     * never redelivered while its batch is still legitimately running.
     */
    visibilityTimeoutSeconds: 300,
    /** Receives before SQS moves a work message to its DLQ (heartbeats do not count on AWS). */
    maxReceiveCount: 5,
    retentionDays: 4,
  },
} as const;

export type InferenceSettings = typeof inferenceSettings;
