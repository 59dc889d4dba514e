import { backOff } from 'exponential-backoff';
import { classifyAwsError } from '../core/aws-errors.ts';
import type { Deadline } from './types.ts';

/** How the batcher treats an error from DynamoDB. */
export type ErrorKind =
  | 'throttle' // retry with backoff
  | 'transient' // 5xx, resets, timeouts: retry with backoff
  | 'unprocessed' // left in UnprocessedItems: repacked and sent again with backoff
  | 'deadline' // our own abort at the deadline: give up, retryable by the caller
  | 'validation' // the request is malformed: permanent
  | 'conditional' // a version guard failed: stale
  | 'access-denied' // IAM refused the write to this table: permanent (retrying cannot grant it)
  | 'other'; // anything else (missing table, bad credentials): give up now, retryable by the caller

/** Classifies an error from a DynamoDB call (or our own retry loop) for the batcher. */
export function classify(error: unknown): ErrorKind {
  const kind = classifyAwsError(error);
  switch (kind) {
    case 'aborted':
      return 'deadline';
    case 'server':
    case 'network':
      return 'transient';
    default:
      return kind;
  }
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
