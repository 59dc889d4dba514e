import { describe, expect, it } from 'vitest';
import { classify } from '../../../../shared/write-batcher/retry.ts';

function sdkError(name: string, status: number, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

describe('classify', () => {
  it.each([
    ['our own abort', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'deadline'],
    ['throttling', sdkError('ProvisionedThroughputExceededException', 400), 'throttle'],
    ['a 5xx', sdkError('InternalServerError', 500, 'server'), 'transient'],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient'],
    ['a malformed request', sdkError('ValidationException', 400), 'validation'],
    ['a failed version guard', sdkError('ConditionalCheckFailedException', 400), 'conditional'],
    ['an IAM refusal', sdkError('AccessDeniedException', 400), 'access-denied'],
    ['a missing table', sdkError('ResourceNotFoundException', 400), 'other'],
  ])('maps %s to %s', (_, error, kind) => {
    expect(classify(error)).toBe(kind);
  });
});
