/**
 * What kind of failure an error thrown by an AWS SDK v3 client (or by the network beneath it) is.
 * Each library maps these kinds onto its own retry decisions.
 */
export type AwsErrorKind =
  | 'throttle' // the service asked us to slow down: worth retrying with backoff
  | 'server' // a 5xx or a service-side fault: worth retrying
  | 'network' // a reset, refused or timed-out connection: worth retrying
  | 'aborted' // our own AbortSignal fired (a deadline): not the service's answer
  | 'validation' // the request is malformed: permanent
  | 'conditional' // a condition expression failed: the caller decides what it means
  | 'access-denied' // IAM refused the action: permanent (retrying cannot grant it)
  | 'other'; // anything else (a missing resource, bad credentials, a bad parameter)

/** Names of throttling errors across DynamoDB, SQS, KMS and S3. */
const THROTTLING_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'KmsThrottled',
  'SlowDown',
]);

const SERVER_NAMES = new Set([
  'InternalServerError',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceFailure',
  // DynamoDB: the item is part of a transaction in progress; the same request succeeds later.
  'TransactionConflictException',
  'TransactionInProgressException',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

const VALIDATION_NAMES = new Set(['ValidationException', 'SerializationException']);

/**
 * IAM's answer when the caller's policies do not allow the action. Authentication failures
 * (UnrecognizedClientException, ExpiredTokenException, InvalidSignatureException,
 * MissingAuthenticationTokenException) are not in it: they concern the caller's credentials, not
 * the request, and pass once the credentials are fixed or refreshed. DynamoDB and ECS name it
 * AccessDeniedException; SQS (query-compatible errors) AccessDenied.
 */
const ACCESS_DENIED_NAMES = new Set(['AccessDeniedException', 'AccessDenied']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/**
 * Classifies an error thrown by an AWS SDK v3 `client.send`: by its name, its HTTP status, the SDK's
 * `$fault`/`$retryable` marks, and (for errors below the SDK) its Node.js error code.
 *
 * @example
 * const kind = classifyAwsError(error);
 * if (kind === 'throttle' || kind === 'server' || kind === 'network') retryLater();
 */
export function classifyAwsError(error: unknown): AwsErrorKind {
  if (typeof error !== 'object' || error === null) return 'other';
  const e = error as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const status = e.$metadata?.httpStatusCode;
  if (name === 'AbortError') return 'aborted';
  if (THROTTLING_NAMES.has(name) || status === 429 || e.$retryable?.throttling === true) return 'throttle';
  if (name === 'ConditionalCheckFailedException') return 'conditional';
  if (VALIDATION_NAMES.has(name)) return 'validation';
  if (ACCESS_DENIED_NAMES.has(name)) return 'access-denied';
  if (SERVER_NAMES.has(name) || (status !== undefined && status >= 500) || e.$fault === 'server') {
    return 'server';
  }
  if ((typeof e.code === 'string' && NETWORK_CODES.has(e.code)) || NETWORK_NAMES.has(name)) return 'network';
  if (e.$retryable !== undefined) return 'server';
  if (!status && error instanceof Error && /socket|network|ECONNRESET|EPIPE/i.test(error.message)) {
    return 'network';
  }
  return 'other';
}

/** Whether an error of this kind may succeed when the same request is sent again. */
export function isRetryableAwsErrorKind(kind: AwsErrorKind): kind is 'throttle' | 'server' | 'network' {
  return kind === 'throttle' || kind === 'server' || kind === 'network';
}
