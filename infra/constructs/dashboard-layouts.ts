import { Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type {
  DISPATCHER_METRICS,
  GPU_TELEMETRY_METRICS,
  GPU_WORKER_METRICS,
} from '../../shared/pipeline/inference/metric-names.ts';
import type { BATCH_WRITER_METRICS, SNAPSHOT_PUBLISHER_METRICS } from '../../shared/pipeline/metric-names.ts';
import type { SNAPSHOT_READER_METRICS, SNAPSHOT_ROLLOUT_METRICS } from '../../shared/snapshots/index.ts';
import type { WRITE_BATCHER_METRICS } from '../../shared/write-batcher/index.ts';
import type { MetricPlacement } from './dashboard.ts';

/**
 * Where each emitted metric goes on the dashboards. Typed by the emitting code's name maps: a metric
 * added there does not compile until it is placed here.
 */
type Layout<T> = Readonly<Record<keyof T, MetricPlacement>>;

export const BATCH_WRITER_LAYOUT: Layout<typeof BATCH_WRITER_METRICS> = {
  MessagesReceived: { graph: 'messages' },
  MessagesDeadLettered: { graph: 'messages' },
  MessagesFailed: { graph: 'messages' },
};

const ITEMS = 'items written / coalesced / stale / rejected';
const REQUESTS = 'DynamoDB requests (left) and consumed WCU (right)';
const RETRIES = 'throttles and retries';

export const WRITE_BATCHER_LAYOUT: Layout<typeof WRITE_BATCHER_METRICS> = {
  ItemsWritten: { graph: ITEMS },
  WritesCoalesced: { graph: ITEMS },
  WritesStale: { graph: ITEMS },
  WritesRejected: { graph: ITEMS },
  BatchWriteRequests: { graph: REQUESTS },
  ConditionalWriteRequests: { graph: REQUESTS },
  ConsumedWriteCapacity: { graph: REQUESTS, right: true },
  Throttles: { graph: RETRIES },
  UnprocessedItemsRetried: { graph: RETRIES },
  WritesRetryableFailed: { graph: RETRIES },
  TransientErrors: { graph: RETRIES },
  StaleVersionLag: {
    graph: 'stale version lag (max of stored − incoming version)',
    statistic: Stats.MAXIMUM,
  },
};

export const SNAPSHOT_READER_LAYOUT: Layout<typeof SNAPSHOT_READER_METRICS> = {
  SnapshotRefreshFailed: { graph: 'config snapshot refresh failures (left) and stale age in s (right)' },
  SnapshotStaleAge: {
    graph: 'config snapshot refresh failures (left) and stale age in s (right)',
    statistic: Stats.MAXIMUM,
    right: true,
  },
};

export const SNAPSHOT_PUBLISHER_LAYOUT: Layout<typeof SNAPSHOT_PUBLISHER_METRICS> = {
  ConfigChangesApplied: { graph: 'config changes and snapshots published' },
  ConfigChangesRejected: { graph: 'config changes and snapshots published' },
  SnapshotsPublished: { graph: 'config changes and snapshots published' },
};

const ROLLOUT_MOVES = 'automated rollouts: steps, promotions, rollbacks';
const ROLLOUT_TROUBLE = 'rollout ticks that lost to a manual change, alarms it could not read';

export const SNAPSHOT_ROLLOUT_LAYOUT: Layout<typeof SNAPSHOT_ROLLOUT_METRICS> = {
  RolloutStepped: { graph: ROLLOUT_MOVES },
  RolloutPromoted: { graph: ROLLOUT_MOVES },
  RolloutRolledBack: { graph: ROLLOUT_MOVES },
  RolloutConflicts: { graph: ROLLOUT_TROUBLE },
  RolloutAlarmsUnknown: { graph: ROLLOUT_TROUBLE },
};

export const DISPATCHER_LAYOUT: Layout<typeof DISPATCHER_METRICS> = {
  InferenceRequestsReceived: { graph: 'requests and jobs' },
  InferenceJobsQueued: { graph: 'requests and jobs' },
  InferenceRequestsDuplicate: { graph: 'requests and jobs' },
  InferenceRequestsDeadLettered: { graph: 'dead-lettered and retried requests' },
  InferenceRequestsRetried: { graph: 'dead-lettered and retried requests' },
  WorkMessagesSent: { graph: 'gpu-work messages sent, scale from zero' },
  WorkerScaledFromZero: { graph: 'gpu-work messages sent, scale from zero' },
};

const JOBS = 'jobs';
const BATCHES = 'batch size (left, average) and inference latency in ms (right, p99)';
const COLD_START = 'cold start in ms (max)';

export const GPU_WORKER_LAYOUT: Layout<typeof GPU_WORKER_METRICS> = {
  JobsDone: { graph: JOBS },
  JobsFailed: { graph: JOBS },
  JobsRetried: { graph: JOBS },
  InvalidWorkMessages: { graph: JOBS },
  GpuOutOfMemory: { graph: JOBS },
  BatchSize: { graph: BATCHES, statistic: Stats.AVERAGE },
  InferenceLatency: { graph: BATCHES, statistic: Stats.p(99), right: true },
  ColdStartModelLoad: { graph: COLD_START, statistic: Stats.MAXIMUM },
  ColdStartWarmUp: { graph: COLD_START, statistic: Stats.MAXIMUM },
  ColdStartReady: { graph: COLD_START, statistic: Stats.MAXIMUM },
};

const UTILISATION = 'GPU utilisation in % (left) and memory used in MB (right)';
const HEAT = 'GPU temperature in °C (left) and power draw in W (right)';
const LIMIT = 'batch limit (left, min) and SM clock in MHz (right)';

export const GPU_TELEMETRY_LAYOUT: Layout<typeof GPU_TELEMETRY_METRICS> = {
  GpuUtilization: { graph: UTILISATION, statistic: Stats.AVERAGE },
  GpuMemoryUsed: { graph: UTILISATION, statistic: Stats.MAXIMUM, right: true },
  GpuTemperature: { graph: HEAT, statistic: Stats.MAXIMUM },
  GpuPowerDraw: { graph: HEAT, statistic: Stats.MAXIMUM, right: true },
  BatchLimit: { graph: LIMIT, statistic: Stats.MINIMUM },
  GpuSmClock: { graph: LIMIT, statistic: Stats.AVERAGE, right: true },
  GpuThermalThrottled: { graph: 'GPU throttled samples (thermal, power)' },
  GpuPowerThrottled: { graph: 'GPU throttled samples (thermal, power)' },
};
