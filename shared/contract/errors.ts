import { PipelineError } from '../core/errors.ts';

/** Base of every error the message contract raises (parsing, validation, routing): `e instanceof ContractError`. */
export abstract class ContractError extends PipelineError {}

/** The SQS body is not JSON. */
export class InvalidJsonError extends ContractError {
  readonly code = 'INVALID_JSON';
  constructor(detail: string, options?: ErrorOptions) {
    super(`body is not valid JSON: ${detail}`, options);
  }
}

/** The JSON does not match message contract v1; `path` points at the bad field. */
export class InvalidMessageError extends ContractError {
  readonly code: string;
  constructor(
    readonly path: string,
    detail: string,
    code = 'INVALID_MESSAGE',
  ) {
    super(`${path || '(root)'}: ${detail}`);
    this.code = code;
  }
}

/** The logical table is not in the routing map. */
export class UnknownTableError extends ContractError {
  readonly code = 'UNKNOWN_TABLE';
  constructor(
    readonly table: string,
    readonly known: readonly string[],
  ) {
    super(`table "${table}" is not routed by this pipeline (known: ${known.join(', ') || 'none'})`);
  }
}

/** The routing map does not allow this op on this table. */
export class OpNotAllowedError extends ContractError {
  readonly code = 'OP_NOT_ALLOWED';
  constructor(
    readonly op: string,
    readonly table: string,
  ) {
    super(`op "${op}" is not allowed on table "${table}"`);
  }
}

/** A key attribute is missing, of the wrong type, or a delete key carries extra attributes. */
export class InvalidKeyError extends ContractError {
  readonly code = 'INVALID_KEY';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** The item uses an attribute name the pipeline keeps for itself. */
export class ReservedAttributeError extends ContractError {
  readonly code = 'RESERVED_ATTRIBUTE';
  constructor(readonly attribute: string) {
    super(`item.${attribute}: attribute name is reserved by the pipeline`);
  }
}

/**
 * A versioned write to a partition key the route shards round-robin: round-robin is for append-only
 * data, and a later version of the item could land on another shard, where no guard would see it.
 */
export class VersionNotAllowedError extends ContractError {
  readonly code = 'VERSION_NOT_ALLOWED';
  constructor(
    readonly table: string,
    readonly partitionKeyValue: string,
  ) {
    super(
      `version: table "${table}" shards partition key "${partitionKeyValue}" round-robin (append-only), so its writes cannot be versioned; send it without a version, or shard it by sortKeyHash`,
    );
  }
}
