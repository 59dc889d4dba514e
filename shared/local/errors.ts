import { PipelineError } from '../core/errors.ts';

/** An emulator (DynamoDB Local, local-aws-sqs) did not come up; `detail` names what it printed. */
export class EmulatorStartError extends PipelineError {
  readonly code = 'EMULATOR_START';
  constructor(
    readonly emulator: string,
    detail: string,
    /** The last lines the emulator wrote to stderr, for the curious. */
    readonly stderrTail = '',
    options?: ErrorOptions,
  ) {
    super(`${emulator} did not start: ${detail}`, options);
  }
}

/** A local resource (table, queue) could not be created or described. */
export class LocalResourceError extends PipelineError {
  readonly code = 'LOCAL_RESOURCE';
  constructor(
    readonly resource: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${resource}: ${detail}`, options);
  }
}

/** `.local/stack.json` is missing or not the shape `writeStackFile` writes. */
export class StackFileError extends PipelineError {
  readonly code = 'STACK_FILE';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${detail}`, options);
  }
}

/** `drain()` gave up: the queue still held messages (or an invocation still ran) at the deadline. */
export class DrainTimeoutError extends PipelineError {
  readonly code = 'DRAIN_TIMEOUT';
  constructor(
    readonly queueUrl: string,
    readonly timeoutMs: number,
    readonly remaining: number,
  ) {
    super(`queue ${queueUrl} still had ${remaining} message(s) after ${timeoutMs} ms`);
  }
}

/** The handler ran past the function timeout; its whole batch failed. It keeps running: a local process cannot be frozen. */
export class HandlerTimeoutError extends PipelineError {
  readonly code = 'HANDLER_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`handler ran past its ${timeoutMs} ms timeout`);
  }
}

/** The handler's response breaks Lambda's batch-response rules; its whole batch failed. */
export class MalformedBatchResponseError extends PipelineError {
  readonly code = 'MALFORMED_BATCH_RESPONSE';
  constructor(detail: string) {
    super(`handler response: ${detail}`);
  }
}

/**
 * The queue's visibility timeout is shorter than the function timeout: Lambda refuses such an
 * event source mapping, since a batch could reappear on the queue while the first invocation still
 * works on it.
 */
export class VisibilityTimeoutTooShortError extends PipelineError {
  readonly code = 'VISIBILITY_TIMEOUT_TOO_SHORT';
  constructor(
    readonly queueUrl: string,
    readonly visibilityTimeoutSeconds: number,
    readonly functionTimeoutMs: number,
  ) {
    super(
      `queue ${queueUrl}: visibility timeout ${visibilityTimeoutSeconds} s is less than the function timeout ` +
        `${functionTimeoutMs / 1000} s (Lambda refuses this event source mapping)`,
    );
  }
}

/** Why the local state directory (`.local/`) cannot be used as it is. */
export const LocalStateErrorCode = {
  /** Another `npm run local` holds the state directory's lock. */
  locked: 'STATE_LOCKED',
  /** A state file is not the shape this version writes. */
  invalid: 'STATE_INVALID',
  /** The running emulators were started for another region. */
  regionMismatch: 'STATE_REGION_MISMATCH',
} as const;

/** The local state directory is in use, unreadable or inconsistent; `--fresh` starts over. */
export class LocalStateError extends PipelineError {
  constructor(
    readonly code: (typeof LocalStateErrorCode)[keyof typeof LocalStateErrorCode],
    readonly path: string,
    detail: string,
    /** The process that holds the lock (`STATE_LOCKED`). */
    readonly pid?: number,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${detail}`, options);
  }
}

/** A condition the local tooling (a demo, a test) waited for did not hold before its deadline. */
export class WaitTimeoutError extends PipelineError {
  readonly code = 'WAIT_TIMEOUT';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what}: not within ${timeoutMs} ms`);
  }
}
