/**
 * The AWS limits `pipeline advise` sizes against, and the assumptions it makes where a sample cannot
 * tell (request latencies). Every figure here is printed with the advice (`assumptions`), so a
 * reader can see what a recommendation rests on.
 */

export const awsLimits = {
  /** Write units per second one DynamoDB partition sustains. */
  partitionWriteUnitsPerSec: 1000,
  /** Read units per second one DynamoDB partition sustains. */
  partitionReadUnitsPerSec: 3000,
  /** Warm throughput a new on-demand table starts with (write request units per second). */
  newTableWarmWriteUnitsPerSec: 4000,
  /** Lambda's invocation payload limit, which bounds an SQS batch's bodies. */
  lambdaPayloadBytes: 6 * 1024 * 1024,
  /** Largest SQS event source batch (standard queues). */
  maxBatchSize: 10_000,
  /** Longest batching window an SQS event source allows. */
  maxBatchingWindowSeconds: 300,
  /** Event source maximum concurrency range (standard mode). */
  eventSourceConcurrency: { min: 2, max: 1000 },
  /** Provisioned pollers: ranges of minimum and maximum, and what one poller drives. */
  provisionedPollers: {
    minimum: { min: 2, max: 200 },
    maximum: { min: 2, max: 2000 },
    invocationsPerPoller: 10,
    bytesPerSecPerPoller: 1024 * 1024,
  },
  /** Lambda memory range (MiB). */
  lambdaMemoryMiB: { min: 128, max: 10_240 },
  /** WriteBatcher `maxConcurrency` range. */
  writeConcurrency: { min: 1, max: 256 },
} as const;

export const adviseAssumptions = {
  /** Shards are sized so each carries at most this share of a partition's limit. */
  shardHeadroom: 0.8,
  /** Most shards a recommendation proposes (`SHARD_COUNT.max`). */
  maxShards: 100,
  /** Each record of an SQS event adds about this much JSON to the payload besides its body. */
  sqsRecordOverheadBytes: 700,
  /** Batches are kept under this share of Lambda's payload limit. */
  payloadHeadroom: 0.9,
  /**
   * Lambda's SQS event source starts with five pollers sharing the stream (standard mode), so a
   * batch gathers about a fifth of what arrives in the window; more concurrency only makes it smaller.
   */
  sqsPollers: 5,
  /** Batching windows tried for coalescing; a longer one is chosen only if it saves `windowStepGain` more writes. */
  candidateWindowsSeconds: [1, 2, 5] as readonly number[],
  windowStepGain: 0.1,
  /** Coalescing "pays" when it removes at least this share of writes. */
  coalescingPaysRatio: 0.05,
  /** Smallest batch size recommended. */
  minBatchSize: 10,
  /** Round-trip of one BatchWriteItem (25 writes) from Lambda, ms. */
  batchWriteLatencyMs: 30,
  /** Round-trip of one TransactWriteItems (up to 100 guarded puts), ms. */
  transactionLatencyMs: 60,
  /** Round-trip of one conditional PutItem, ms. */
  conditionalPutLatencyMs: 10,
  /** Fixed cost of one invocation besides its writes (parse, route, DLQ, response), ms. */
  invocationOverheadMs: 20,
  /** An invocation should write its batch in about this long. */
  targetWriteMs: 1000,
  /** Fewest WriteBatcher requests in flight recommended (the adaptive window starts at 4). */
  minWriteConcurrency: 4,
  /** Event source concurrency is sized at this multiple of the peak need. */
  concurrencyHeadroom: 1.5,
  /** Peak-to-mean ratio from which provisioned pollers are recommended (standard mode scales in minutes). */
  provisionedBurstiness: 3,
  /** Lambda memory: runtime, SDK clients and module code besides the batch. */
  runtimeBaselineMiB: 160,
  /** Lambda memory: this multiple of the measured batch heap (garbage and a second batch's worth). */
  heapMultiplier: 2,
  /** Lambda memory floor: below it the function gets under a third of a vCPU. */
  minMemoryMiB: 512,
  /** Warm throughput is asked at this multiple of the peak write units. */
  warmThroughputHeadroom: 1.2,
  /** GPU: the backlog one task should clear in this long before another task is started. */
  gpuDrainSeconds: 60,
  /** GPU: tasks are sized at this multiple of the peak job rate. */
  gpuHeadroom: 1.2,
} as const;
