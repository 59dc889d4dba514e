/**
 * Errors of the pipeline's app glue (routing configuration, sharded reads). Message-level routing
 * errors (unknown table, op not allowed, bad key) are the contract's (`shared/contract`).
 */

import { PipelineError } from '../core/errors.ts';

/** A route's `shards` break a rule of `shardingProblem`; `path` is relative to the route. */
export class InvalidShardingError extends PipelineError {
  readonly code = 'INVALID_SHARDING';
  constructor(
    readonly table: string,
    readonly path: string,
    detail: string,
  ) {
    super(`routing.${table}.${path}: ${detail}`);
  }
}

/** A query of one shard failed; `retryable` follows the cause (throttling, 5xx, network). */
export class ShardedQueryError extends PipelineError {
  readonly code = 'SHARDED_QUERY_FAILED';
  override readonly retryable: boolean;
  constructor(
    readonly tableName: string,
    readonly partitionKeyValue: string,
    retryable: boolean,
    options: ErrorOptions & { cause: Error },
  ) {
    super(
      `query of ${tableName} partition "${partitionKeyValue}" failed: ${options.cause.name}: ${options.cause.message}`,
      options,
    );
    this.retryable = retryable;
  }
}
