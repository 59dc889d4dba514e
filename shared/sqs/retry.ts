import { classifyAwsError, isRetryableAwsErrorKind } from '../core/aws-errors.ts';

/** Why a request (or an entry of it) may succeed when sent again; undefined when it cannot. */
export type RetryKind = 'throttle' | 'server' | 'network';

/**
 * Classifies an error thrown by `SQSClient.send`: throttling, 5xx or network errors are worth
 * retrying; anything else (a missing queue, access denied, a bad request, our own abort) is not.
 */
export function classifyRequestError(error: unknown): RetryKind | undefined {
  const kind = classifyAwsError(error);
  return isRetryableAwsErrorKind(kind) ? kind : undefined;
}

/** A `Failed` batch entry is retried when SQS says it was not the sender's fault. */
export function isRetryableEntryFailure(failure: { SenderFault?: boolean | undefined }): boolean {
  return failure.SenderFault === false;
}
