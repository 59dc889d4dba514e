import { PipelineError } from '../core/errors.ts';

/** Base of every error the SQS producer library raises: `catch (e) { if (e instanceof SqsSendError) … }`. */
export abstract class SqsSendError extends PipelineError {}

/** A message (body + attributes) is over SQS's size limit; it was not sent. */
export class MessageTooLargeError extends SqsSendError {
  readonly code = 'MESSAGE_TOO_LARGE';
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`message is ${bytes} bytes (body + attributes); SQS's limit is ${limit}`);
  }
}

/**
 * A message has more message attributes than SQS allows (10); it was not sent. `names` lists them.
 * The trace context the sender adds never causes it: without a free attribute it travels in the
 * `AWSTraceHeader` system attribute, which does not count.
 */
export class TooManyMessageAttributesError extends SqsSendError {
  readonly code = 'TOO_MANY_ATTRIBUTES';
  constructor(
    readonly names: readonly string[],
    readonly limit: number,
  ) {
    super(
      `message has ${names.length} message attributes (${names.map((n) => JSON.stringify(n)).join(', ')}); SQS allows ${limit}`,
    );
  }
}

/** The body (or a string attribute) is empty or holds characters SQS refuses; it was not sent. */
export class InvalidMessageBodyError extends SqsSendError {
  readonly code = 'INVALID_BODY';
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
  }
}

/** A FIFO queue needs a `messageGroupId` on every message; it was not sent. */
export class MissingGroupIdError extends SqsSendError {
  readonly code = 'MISSING_GROUP_ID';
  constructor(readonly queueUrl: string) {
    super(`queue ${queueUrl} is a FIFO queue: every message needs a messageGroupId`);
  }
}

/**
 * A `messageGroupId` SQS would refuse: it must be 1 to 128 characters, each a letter, a digit or
 * ASCII punctuation (on a standard queue it is the fair-queue tenant). It was not sent.
 */
export class InvalidGroupIdError extends SqsSendError {
  readonly code = 'INVALID_GROUP_ID';
  constructor(
    readonly groupId: string,
    detail: string,
  ) {
    super(`messageGroupId ${quote(groupId)}: ${detail}`);
  }
}

/**
 * A message's tenant (its fair-queue `MessageGroupId` on a standard queue) is not one SQS accepts,
 * could not be computed, or was given where it has no meaning (a FIFO queue, next to `groupId`).
 * `tenant` is the value as received; `target` names the message (`table` and key). It was not sent.
 */
export class InvalidTenantError extends SqsSendError {
  readonly code = 'INVALID_TENANT';
  constructor(
    readonly tenant: unknown,
    readonly target: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`tenant${tenant === undefined ? '' : ` ${describe(tenant)}`} of ${target}: ${detail}`, options);
  }
}

/** `send()` after `close()`. */
export class SenderClosedError extends SqsSendError {
  readonly code = 'SENDER_CLOSED';
  constructor() {
    super('the sender is closed; create a new one to send more messages');
  }
}

/**
 * SQS refused the message for good: a per-entry `Failed` with `SenderFault: true`, or a request
 * error that retrying cannot fix (missing queue, access denied…). `sqsCode` is SQS's code.
 */
export class SqsRejectedError extends SqsSendError {
  readonly code = 'SQS_REJECTED';
  constructor(
    readonly sqsCode: string,
    readonly sqsMessage: string,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(`SQS rejected the message: ${sqsCode}: ${sqsMessage}`, options);
  }
}

/** Every attempt failed with a retryable error (throttling, 5xx, network, `SenderFault: false`). */
export class RetriesExhaustedError extends SqsSendError {
  readonly code = 'RETRIES_EXHAUSTED';
  override readonly retryable = true;
  constructor(
    readonly attempts: number,
    readonly lastReason: string,
    options?: ErrorOptions,
  ) {
    super(`message not accepted after ${attempts} attempts; last error: ${lastReason}`, options);
  }
}

/** The reason a message failed, as counted in `SenderStats.failedByReason`. */
export function failureReason(error: unknown): string {
  if (error instanceof SqsRejectedError) return error.sqsCode;
  if (error instanceof PipelineError) return error.code;
  return error instanceof Error ? error.name : 'UNKNOWN';
}

/** A value for an error message: JSON-quoted, long ones cut at 140 characters. */
function quote(value: string): string {
  return JSON.stringify(value.length > 140 ? `${value.slice(0, 140)}…` : value);
}

/** A tenant as received, for an error message: a string quoted, anything else as JSON (cut at 140). */
function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 140 ? `${text.slice(0, 140)}…` : text;
}
