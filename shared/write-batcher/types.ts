import type { PipelineError } from '../core/errors.ts';

/** Where a write lands: the physical table and its key schema. */
export interface TableTarget {
  readonly tableName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /**
   * The table has secondary indexes: a write costs capacity there too, which only DynamoDB can tell,
   * so requests to it ask for `ReturnConsumedCapacity: INDEXES`. @default false
   */
  readonly indexes?: boolean;
}

/** A native JS value as the DynamoDB document marshaller accepts it (JSON-shaped here). */
export type AttributeMap = Readonly<Record<string, unknown>>;

/** One write the batcher applies. `item` must contain the table's key attributes. */
export type WriteRequest =
  | {
      readonly op: 'put';
      readonly target: TableTarget;
      readonly item: AttributeMap;
      /** Version guard: the stored item is replaced only by a strictly higher version. */
      readonly version?: number;
      /** Coalescing scope (e.g. a FIFO message group): requests coalesce only within one scope. */
      readonly scope?: string;
    }
  | {
      readonly op: 'delete';
      readonly target: TableTarget;
      readonly key: AttributeMap;
      readonly version?: number;
      readonly scope?: string;
    };

/** Why a write is still not applied when the batcher gives up; the caller should retry the input. */
export type RetryReason =
  | 'deadline' // still unprocessed, throttled or failing when the deadline came
  | 'error'; // DynamoDB answered with an error retrying will not fix now (missing table, bad credentials)

/**
 * A version guard found an equal or higher stored version: skipped, which is success. The failed
 * condition returns the stored item (`ReturnValuesOnConditionCheckFailure: ALL_OLD`); only its
 * version and tombstone flag are kept, never its attributes.
 */
export interface StaleOutcome {
  readonly status: 'stale';
  /** The version this write carried. */
  readonly incomingVersion?: number;
  /** The stored version that won; absent when DynamoDB returned no item or no numeric version. */
  readonly storedVersion?: number;
  /** The stored item is a tombstone: a versioned delete won. */
  readonly storedDeleted?: true;
}

/** The outcome of a write that was sent (or decided) on its own behalf. */
export type FinalOutcome =
  | { readonly status: 'written' }
  | StaleOutcome
  | { readonly status: 'retryable'; readonly reason: RetryReason; readonly detail: string }
  | { readonly status: 'rejected'; readonly error: PipelineError };

/** Every input gets exactly one outcome, index-aligned with the input. */
export type Outcome =
  | FinalOutcome
  /** Superseded by a later write to the same key; shares that write's outcome. */
  | { readonly status: 'coalesced'; readonly supersededBy: number; readonly final: FinalOutcome };

/** Counters for one `writeAll` (or one streaming flush). */
export interface WriteStats {
  inputs: number;
  written: number;
  coalesced: number;
  stale: number;
  rejected: number;
  retryableFailures: number;
  /** BatchWriteItem calls. */
  batchRequests: number;
  /** Single-item conditional PutItem/DeleteItem calls (version-guarded writes). */
  conditionalRequests: number;
  /** Items that came back in UnprocessedItems and were sent again. */
  unprocessedRetried: number;
  /** Throttling errors received (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded). */
  throttles: number;
  /** Other retryable errors (5xx, network resets, timeouts). */
  transientErrors: number;
  consumedWriteCapacity: number;
  /**
   * Largest `storedVersion − incomingVersion` among the stale writes: 0 when there were none or they
   * only repeated the stored version (redeliveries); more when a newer version had already won.
   */
  staleVersionLag: number;
}

/** The result of one `writeAll`. */
export interface WriteResult {
  readonly outcomes: readonly Outcome[];
  readonly stats: WriteStats;
}

/** How version-guarded writes and their tombstones are stored: the batcher's options, resolved. */
export interface Versioning {
  readonly versionAttribute: string;
  readonly deletedAttribute: string;
  readonly ttlAttribute: string;
  readonly tombstoneTtlDays: number;
}

export type { Deadline } from '../core/deadline.ts';
