import { PipelineError } from '../core/errors.ts';

/** Base of every error the write-batcher library raises: `catch (e) { if (e instanceof WriteBatcherError) … }`. */
export abstract class WriteBatcherError extends PipelineError {}

/** DynamoDB's item size limit (400 KB, attribute names included). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** Partition key values are limited to 2048 bytes, sort key values to 1024 bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;
/** Documents may nest at most 32 levels deep. */
export const MAX_NESTING_DEPTH = 32;

/** The item is larger than DynamoDB accepts. */
export class ItemTooLargeError extends WriteBatcherError {
  readonly code = 'ITEM_TOO_LARGE';
  constructor(
    readonly bytes: number,
    readonly limit: number = MAX_ITEM_BYTES,
    options?: ErrorOptions,
  ) {
    super(`item is ${bytes} bytes; DynamoDB's limit is ${limit}`, options);
  }
}

/** A key attribute value is longer than DynamoDB accepts. */
export class KeyTooLongError extends WriteBatcherError {
  readonly code = 'KEY_TOO_LONG';
  constructor(
    readonly attribute: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`key attribute ${attribute} is ${bytes} bytes; DynamoDB's limit is ${limit}`);
  }
}

/** The item nests documents deeper than DynamoDB accepts. */
export class NestingTooDeepError extends WriteBatcherError {
  readonly code = 'NESTING_TOO_DEEP';
  constructor(
    readonly path: string,
    readonly limit: number = MAX_NESTING_DEPTH,
  ) {
    super(`item.${path} nests deeper than DynamoDB's limit of ${limit} levels`);
  }
}

/** The item holds a value DynamoDB cannot store (e.g. an empty set, a non-finite number). */
export class UnsupportedValueError extends WriteBatcherError {
  readonly code = 'UNSUPPORTED_VALUE';
  constructor(detail: string, options?: ErrorOptions) {
    super(`item cannot be stored in DynamoDB: ${detail}`, options);
  }
}

/** DynamoDB itself rejected the write (ValidationException) — permanent. */
export class DynamoDbValidationError extends WriteBatcherError {
  readonly code = 'DYNAMODB_VALIDATION';
  constructor(detail: string, options?: ErrorOptions) {
    super(`DynamoDB rejected the write: ${detail}`, options);
  }
}

/**
 * DynamoDB refused the write for lack of permission (AccessDeniedException): the function's role may
 * not write this table — permanent, since retrying cannot grant it.
 */
export class DynamoDbAccessDeniedError extends WriteBatcherError {
  readonly code = 'ACCESS_DENIED';
  constructor(
    readonly tableName: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`DynamoDB denied the write to table ${tableName}: ${detail}`, options);
  }
}

/** `add()` after `close()`. */
export class WriteBatcherClosedError extends WriteBatcherError {
  readonly code = 'WRITE_BATCHER_CLOSED';
  constructor() {
    super('the WriteBatcher is closed; no more writes are accepted');
  }
}
