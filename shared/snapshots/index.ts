// The public API of the snapshots library: code outside shared/snapshots/ imports from here only.
export {
  ALARM_STATES,
  type AlarmReadout,
  type AlarmState,
  type AlarmStateSource,
  CloudWatchAlarmStates,
  type DescribeAlarms,
  type DescribeAlarmsInput,
  type DescribeAlarmsOutput,
  describeAlarmsWith,
  StaticAlarmStates,
} from './alarms.ts';
export { parseJson } from './codec.ts';
export { decideRollout, type RolloutAction, type RolloutDecision } from './controller.ts';
export { type DiffEntry, diffDocuments } from './diff.ts';
export { compileDocumentSchema, MAX_SCHEMA_BYTES, SUPPORTED_SCHEMA_DRAFTS } from './document-schema.ts';
export * from './errors.ts';
export { SNAPSHOT_READER_METRICS, SNAPSHOT_ROLLOUT_METRICS } from './metric-names.ts';
export { type SnapshotContext, snapshotMiddleware } from './middleware.ts';
export { SnapshotPublisher } from './publisher.ts';
export { createSnapshotReader, type SnapshotReader } from './reader.ts';
export { parseMatchRules } from './rollout.ts';
export { SnapshotRolloutController, type TickResult } from './rollout-controller.ts';
export { SnapshotSchemas } from './schemas.ts';
export { SNAPSHOT_NAME_PATTERN, snapshotSettings } from './settings.ts';
export { DynamoDbSnapshotStore } from './store.ts';
export {
  checkAlarmName,
  nextMoveAt,
  nextPercentage,
  planStrategy,
  type RolloutStrategyRequest,
  rolloutLimits,
  rolloutPhase,
} from './strategy.ts';
export { createSnapshotTable } from './table.ts';
export type {
  Deadline,
  DocumentSchemaRecord,
  Manifest,
  Pointer,
  Rollout,
  RolloutOutcome,
  RolloutStrategy,
  SnapshotStore,
} from './types.ts';
