/** Why a request (or an entry of it) may succeed when sent again; undefined when it cannot. */
export type RetryKind = 'throttle' | 'server' | 'network';

const THROTTLING_NAMES = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'KmsThrottled',
  'SlowDown',
]);

const SERVER_NAMES = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'ServiceFailure']);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/**
 * Classifies an error thrown by `SQSClient.send`: throttling, 5xx or network errors are worth
 * retrying; anything else (a missing queue, access denied, a bad request) is not.
 */
export function classifyRequestError(error: unknown): RetryKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING_NAMES.has(name) || status === 429 || e.$retryable?.throttling === true) return 'throttle';
  if (SERVER_NAMES.has(name) || (status !== undefined && status >= 500) || e.$fault === 'server') {
    return 'server';
  }
  if ((typeof e.code === 'string' && NETWORK_CODES.has(e.code)) || NETWORK_NAMES.has(name)) return 'network';
  if (e.$retryable !== undefined) return 'server';
  return undefined;
}

/** A `Failed` batch entry is retried when SQS says it was not the sender's fault. */
export function isRetryableEntryFailure(failure: { SenderFault?: boolean | undefined }): boolean {
  return failure.SenderFault === false;
}
