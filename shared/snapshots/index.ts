// The public API of the snapshots library: code outside shared/snapshots/ imports from here only.
export { parseJson } from './codec.ts';
export { type DiffEntry, diffDocuments } from './diff.ts';
export * from './errors.ts';
export { SNAPSHOT_READER_METRICS } from './metric-names.ts';
export { type SnapshotContext, snapshotMiddleware } from './middleware.ts';
export { SnapshotPublisher } from './publisher.ts';
export { createSnapshotReader, type SnapshotReader } from './reader.ts';
export { parseMatchRules } from './rollout.ts';
export { SNAPSHOT_NAME_PATTERN, snapshotSettings } from './settings.ts';
export { DynamoDbSnapshotStore } from './store.ts';
export { createSnapshotTable } from './table.ts';
export type { Deadline, Manifest, Pointer } from './types.ts';
