import { describe, expect, it } from 'vitest';
import { classifyRequestError, isRetryableEntryFailure } from '../../../../shared/sqs/retry.ts';

function sdkError(name: string, status: number, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

describe('classifyRequestError', () => {
  it.each([
    ['RequestThrottled', sdkError('RequestThrottled', 400), 'throttle'],
    ['ThrottlingException', sdkError('ThrottlingException', 400), 'throttle'],
    ['HTTP 429', sdkError('SomethingElse', 429), 'throttle'],
    ['HTTP 503', sdkError('ServiceUnavailable', 503, 'server'), 'server'],
    ['HTTP 500', sdkError('InternalError', 500, 'server'), 'server'],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network'],
    ['a refused connection', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), 'network'],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'network'],
  ])('retries %s', (_, error, kind) => {
    expect(classifyRequestError(error)).toBe(kind);
  });

  it.each([
    ['a missing queue', sdkError('QueueDoesNotExist', 400)],
    ['access denied', sdkError('AccessDenied', 403)],
    ['a bad request', sdkError('InvalidParameterValue', 400)],
    ['a plain error', new Error('Invalid MD5 checksum on messages: 1')],
    ['a non-error', 'boom'],
  ])('does not retry %s', (_, error) => {
    expect(classifyRequestError(error)).toBeUndefined();
  });
});

describe('isRetryableEntryFailure', () => {
  it('retries a Failed entry only when SQS says it was not the sender’s fault', () => {
    expect(isRetryableEntryFailure({ SenderFault: false })).toBe(true);
    expect(isRetryableEntryFailure({ SenderFault: true })).toBe(false);
    expect(isRetryableEntryFailure({})).toBe(false);
  });
});
