// The public API of the write-batcher library: code outside shared/write-batcher/ imports from here only.

export { type DryRunOptions, type DryRunResult, type DryRunWrite, dryRun } from './dry-run.ts';
export * from './errors.ts';
export { WRITE_BATCHER_METRICS } from './metric-names.ts';
export { finalOutcome } from './outcome.ts';
export type {
  Deadline,
  FinalOutcome,
  Outcome,
  StaleOutcome,
  TableTarget,
  WriteRequest,
  WriteResult,
  WriteStats,
} from './types.ts';
export { WriteBatcher } from './write-batcher.ts';
