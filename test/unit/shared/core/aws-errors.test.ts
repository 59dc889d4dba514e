import { describe, expect, it } from 'vitest';
import { classifyAwsError, isRetryableAwsErrorKind } from '../../../../shared/core/aws-errors.ts';

function sdkError(name: string, status: number, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe('classifyAwsError', () => {
  it.each([
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
  ])('calls %s throttling', (name) => {
    expect(classifyAwsError(sdkError(name, 400))).toBe('throttle');
  });

  it('calls HTTP 429, or an error the SDK marks as throttling, throttling', () => {
    expect(classifyAwsError(sdkError('SomethingElse', 429))).toBe('throttle');
    expect(classifyAwsError(Object.assign(new Error('x'), { $retryable: { throttling: true } }))).toBe(
      'throttle',
    );
  });

  it.each([
    ['InternalServerError', sdkError('InternalServerError', 500, 'server')],
    ['InternalError', sdkError('InternalError', 500, 'server')],
    ['InternalFailure', sdkError('InternalFailure', 400)],
    ['ServiceUnavailable', sdkError('ServiceUnavailable', 503, 'server')],
    ['ServiceFailure', sdkError('ServiceFailure', 400)],
    ['TransactionConflictException', sdkError('TransactionConflictException', 400)],
    ['TransactionInProgressException', sdkError('TransactionInProgressException', 400)],
    ['any 5xx', sdkError('Whatever', 502)],
    ['a server fault', Object.assign(new Error('x'), { $fault: 'server' })],
    ['an error the SDK marks retryable', Object.assign(new Error('x'), { $retryable: {} })],
  ])('calls %s a server error', (_, error) => {
    expect(classifyAwsError(error)).toBe('server');
  });

  it.each([
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
  ])('calls error code %s a network error', (code) => {
    expect(classifyAwsError(networkError(code))).toBe('network');
  });

  it.each([
    ['TimeoutError', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
    ['RequestTimeout', Object.assign(new Error('timed out'), { name: 'RequestTimeout' })],
    ['RequestTimeoutException', Object.assign(new Error('timed out'), { name: 'RequestTimeoutException' })],
    ['a socket failure without a status', new Error('socket hang up')],
  ])('calls %s a network error', (_, error) => {
    expect(classifyAwsError(error)).toBe('network');
  });

  it('calls an AbortError our own abort, not the service’s answer', () => {
    expect(classifyAwsError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe('aborted');
  });

  it.each([
    ['ValidationException', 'validation'],
    ['SerializationException', 'validation'],
    ['ConditionalCheckFailedException', 'conditional'],
    ['AccessDeniedException', 'access-denied'],
    // SQS's query-compatible name for the same refusal.
    ['AccessDenied', 'access-denied'],
  ] as const)('calls %s %s', (name, kind) => {
    expect(classifyAwsError(sdkError(name, 400))).toBe(kind);
  });

  it.each([
    ['a missing queue', sdkError('QueueDoesNotExist', 400)],
    ['a missing table', sdkError('ResourceNotFoundException', 400)],
    ['bad credentials', sdkError('UnrecognizedClientException', 400)],
    ['a bad parameter', sdkError('InvalidParameterValue', 400)],
    ['a plain error', new Error('Invalid MD5 checksum on messages: 1')],
    ['a non-error', 'boom'],
    ['null', null],
  ])('calls %s other', (_, error) => {
    expect(classifyAwsError(error)).toBe('other');
  });
});

describe('isRetryableAwsErrorKind', () => {
  it('retries throttling, server and network errors only', () => {
    const kinds = [
      'throttle',
      'server',
      'network',
      'aborted',
      'validation',
      'conditional',
      'access-denied',
      'other',
    ] as const;
    expect(kinds.filter(isRetryableAwsErrorKind)).toEqual(['throttle', 'server', 'network']);
  });
});
