import { backOff } from 'exponential-backoff';
import type { Deadline } from './types.ts';

/** How the batcher treats an error from DynamoDB. */
export type ErrorKind =
  | 'throttle' // retry with backoff
  | 'transient' // 5xx, resets, timeouts: retry with backoff
  | 'unprocessed' // UnprocessedItems left: retry with backoff
  | 'deadline' // our own abort at the deadline: give up, retryable by the caller
  | 'validation' // the request is malformed: permanent
  | 'conditional' // a version guard failed: stale
  | 'access-denied' // IAM refused the write to this table: permanent (retrying cannot grant it)
  | 'other'; // anything else (missing table, bad credentials): give up now, retryable by the caller

/**
 * IAM's answer when the caller's policies do not allow the action on the table. Authentication
 * failures (UnrecognizedClientException, ExpiredTokenException, InvalidSignatureException,
 * MissingAuthenticationTokenException) are not in it: they concern the function's credentials, not
 * the write, and pass once the credentials are fixed or refreshed, so they stay retryable.
 */
const ACCESS_DENIED = new Set(['AccessDeniedException']);

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'InternalServerError',
  'ServiceUnavailable',
  'RequestTimeout',
]);

/** Unprocessed items were left after a BatchWriteItem call; thrown to drive the next retry. */
export class UnprocessedItemsLeft extends Error {
  override readonly name = 'UnprocessedItemsLeft';
}

export function classify(error: unknown): ErrorKind {
  if (error instanceof UnprocessedItemsLeft) return 'unprocessed';
  const e = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $fault?: string;
  };
  const name = e?.name ?? '';
  if (name === 'AbortError') return 'deadline';
  if (THROTTLING.has(name)) return 'throttle';
  if (name === 'ConditionalCheckFailedException') return 'conditional';
  if (name === 'ValidationException' || name === 'SerializationException') return 'validation';
  if (ACCESS_DENIED.has(name)) return 'access-denied';
  if (TRANSIENT_NAMES.has(name) || (e.code !== undefined && TRANSIENT_CODES.has(e.code))) return 'transient';
  const status = e?.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 || e?.$fault === 'server') return 'transient';
  if (status === 0 && error instanceof Error && /socket|network|ECONNRESET|EPIPE/i.test(error.message)) {
    return 'transient';
  }
  return 'other';
}

export interface BackoffOptions {
  /** First retry waits up to this long. @default 25 */
  readonly baseDelayMs: number;
  /** No single wait is longer. @default 1000 */
  readonly maxDelayMs: number;
}

/**
 * Runs `attempt` until it succeeds, retrying throttling, transient errors and unprocessed items with
 * exponential backoff and full jitter — but only while the longest possible wait still ends before the
 * deadline. The last error is rethrown.
 */
export function retrying<T>(
  attempt: () => Promise<T>,
  deadline: Deadline,
  backoff: BackoffOptions,
  onRetry: (kind: ErrorKind) => void,
): Promise<T> {
  return backOff(attempt, {
    jitter: 'full',
    startingDelay: backoff.baseDelayMs,
    maxDelay: backoff.maxDelayMs,
    timeMultiple: 2,
    numOfAttempts: Number.MAX_SAFE_INTEGER,
    delayFirstAttempt: false,
    retry: (error: unknown, attemptNumber: number) => {
      const kind = classify(error);
      if (kind !== 'throttle' && kind !== 'transient' && kind !== 'unprocessed') return false;
      const longestWait = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** (attemptNumber - 1));
      if (Date.now() + longestWait >= deadline.at) return false;
      onRetry(kind);
      return true;
    },
  });
}
