/**
 * What the write path's functions publish: their Powertools service names (the `service` dimension
 * of every metric they emit, in the namespace `POWERTOOLS_METRICS_NAMESPACE`) and the metrics they
 * add themselves, by name. The libraries they use add theirs too (`WRITE_BATCHER_METRICS`,
 * `SNAPSHOT_READER_METRICS`). Shared with infra/, so the dashboard graphs what the code emits.
 */

/** `serviceName` of the batch writer's Logger and Metrics. */
export const BATCH_WRITER_SERVICE = 'batch-writer';

/** Added once per batch by the batch writer (all `Count`). */
export const BATCH_WRITER_METRICS = {
  MessagesReceived: 'MessagesReceived',
  MessagesDeadLettered: 'MessagesDeadLettered',
  MessagesFailed: 'MessagesFailed',
} as const;

/** `serviceName` of the config-changes publisher's Logger and Metrics. */
export const SNAPSHOT_PUBLISHER_SERVICE = 'snapshot-publisher';

/** Added by the config-changes publisher (all `Count`). */
export const SNAPSHOT_PUBLISHER_METRICS = {
  ConfigChangesApplied: 'ConfigChangesApplied',
  SnapshotsPublished: 'SnapshotsPublished',
  ConfigChangesRejected: 'ConfigChangesRejected',
} as const;

/**
 * `serviceName` of the rollout controller's Logger and Metrics; it adds `SNAPSHOT_ROLLOUT_METRICS`
 * (shared/snapshots).
 */
export const ROLLOUT_CONTROLLER_SERVICE = 'rollout-controller';
