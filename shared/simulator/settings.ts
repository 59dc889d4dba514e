/**
 * What the simulator takes from the deployed pipeline (`PipelineSettings`, read from the
 * synthesized templates by `settingsFromTemplates`) and how long its parts take
 * (`ServiceTimes`: assumptions for AWS, or calibrated on the local stack by the bench).
 */

import { awsLimits } from '../pipeline/capacity/limits.ts';
import { writePathSettings } from '../pipeline/settings.ts';

export interface PipelineSettings {
  readonly eventSource: {
    readonly batchSize: number;
    readonly maxBatchingWindowSeconds: number;
    /** `ScalingConfig.MaximumConcurrency` (standard mode). @default none: Lambda's 1,000 */
    readonly maximumConcurrency?: number;
    /** `ProvisionedPollerConfig` (provisioned mode). @default none: standard mode */
    readonly provisionedPollers?: { readonly minimum: number; readonly maximum: number };
  };
  readonly lambda: {
    readonly memoryMiB: number;
    readonly timeoutSeconds: number;
    readonly architecture: 'arm64' | 'x86_64';
    /** `ReservedConcurrentExecutions`. @default none */
    readonly reservedConcurrency?: number;
    /** Account concurrency limit (not in a template). @default 1000 */
    readonly accountConcurrency: number;
    /** The batch writer's `MAX_CONCURRENCY`: BatchWriteItem requests in flight per invocation. */
    readonly writeConcurrency: number;
    /** `DEADLINE_MARGIN_MS`: the writer stops retrying this long before the timeout. */
    readonly deadlineMarginMs: number;
  };
  readonly queue: { readonly visibilityTimeoutSeconds: number; readonly maxReceiveCount: number };
  readonly table: {
    readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
    /** On-demand: the table's warm write throughput (`WarmThroughput`), else a new table's. */
    readonly warmWriteUnitsPerSec: number;
    /** `OnDemandThroughput.MaxWriteRequestUnits`. @default none */
    readonly maxWriteRequestUnits?: number;
    /** Provisioned mode: `WriteCapacityUnits`. */
    readonly provisionedWriteUnits?: number;
  };
  /** The GPU tier; absent when the app has none. */
  readonly gpu?: GpuSettings;
}

export interface GpuSettings {
  readonly instanceType: string;
  /** Auto Scaling group `MaxSize`. */
  readonly maxInstances: number;
  /** Tasks one instance holds (its GPUs over the task's). */
  readonly tasksPerInstance: number;
  /** Scalable target `MaxCapacity`. */
  readonly maxTasks: number;
  /** Step scaling on the backlog: from `lowerBound` visible jobs, `tasks` tasks (ExactCapacity). */
  readonly steps: readonly { readonly lowerBound: number; readonly tasks: number }[];
  /** The worker's `MAX_BATCH`. */
  readonly maxBatch: number;
}

/** The write path as `writePathSettings` deploys it (what the templates hold by default). */
export const defaultPipelineSettings: PipelineSettings = {
  eventSource: {
    batchSize: writePathSettings.eventSource.batchSize,
    maxBatchingWindowSeconds: writePathSettings.eventSource.maxBatchingWindowSeconds,
    maximumConcurrency: writePathSettings.eventSource.maxConcurrency,
  },
  lambda: {
    memoryMiB: writePathSettings.function.memoryMiB,
    timeoutSeconds: writePathSettings.function.timeoutSeconds,
    architecture: 'arm64',
    accountConcurrency: 1000,
    writeConcurrency: writePathSettings.function.maxConcurrency,
    deadlineMarginMs: writePathSettings.function.deadlineMarginMs,
  },
  queue: {
    visibilityTimeoutSeconds: writePathSettings.queue.visibilityTimeoutSeconds,
    maxReceiveCount: writePathSettings.queue.maxReceiveCount,
  },
  table: { billingMode: 'PAY_PER_REQUEST', warmWriteUnitsPerSec: awsLimits.newTableWarmWriteUnitsPerSec },
};

/** How long the parts take. Every figure is printed with a result, so a reader sees what it rests on. */
export interface ServiceTimes {
  /** Fixed cost of one invocation besides its writes (event, middy, response, deletes). */
  readonly invocationOverheadMs: number;
  /** Handler CPU per record (parse, validate, route, plan). */
  readonly perRecordMs: number;
  /** One BatchWriteItem round trip: a fixed part and a part per item in it. */
  readonly requestBaseMs: number;
  readonly requestPerItemMs: number;
  /**
   * Backend time per written item, besides the round trips: a throughput-bound backend (DynamoDB
   * Local on shared cores) serves items at a rate, whatever the requests in flight. @default 0 on AWS
   */
  readonly backendPerItemMs: number;
  /** One TransactWriteItems (up to 100 version-guarded puts, sent one after another): fixed and per item. */
  readonly transactionBaseMs: number;
  readonly transactionPerItemMs: number;
  /**
   * How many invocations' writes the backend serves at full speed at once; beyond, every writer
   * slows in proportion (DynamoDB Local on shared cores; Infinity on AWS, where partitions limit).
   */
  readonly backendParallelism: number;
  /** A new execution environment's init (billed since August 2025). */
  readonly coldStartMs: number;
  /** Messages one poller moves from the queue into its batch per second (Infinity: no limit). */
  readonly receivePerSecPerPoller: number;
  /** A poller's DeleteMessageBatch calls after a batch, before it polls again (0: not in the way). */
  readonly deleteMs: number;
  /** Spread of invocation times: the coefficient of variation of a lognormal factor on each. */
  readonly jitter: number;
  /**
   * 'lambda': the event source starts at 5 concurrent batches and adds up to 300 a minute while
   * messages wait (900 in provisioned mode); 'none': every slot polls from the start (the local poller).
   */
  readonly pollerScaling: 'lambda' | 'none';
}

/** Assumptions for AWS: the round trips `pipeline advise` sizes with, a Node 24 cold start. */
export const awsServiceTimes: ServiceTimes = {
  invocationOverheadMs: 20,
  perRecordMs: 0.008,
  requestBaseMs: 10,
  requestPerItemMs: 0.8,
  backendPerItemMs: 0,
  transactionBaseMs: 10,
  transactionPerItemMs: 0.5,
  backendParallelism: Number.POSITIVE_INFINITY,
  coldStartMs: 450,
  receivePerSecPerPoller: Number.POSITIVE_INFINITY,
  deleteMs: 0,
  jitter: 0.2,
  pollerScaling: 'lambda',
};
