import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLambdaContext } from '../../../../../shared/local/lambda/lambda-context.ts';

describe('createLambdaContext', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-26T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts the remaining time down from the function timeout to zero', () => {
    // Prepare
    const context = createLambdaContext({ functionName: 'fn', timeoutMs: 3_000, region: 'us-east-1' });
    // Act
    const atStart = context.getRemainingTimeInMillis();
    vi.advanceTimersByTime(1_200);
    const later = context.getRemainingTimeInMillis();
    vi.advanceTimersByTime(5_000);
    const pastTimeout = context.getRemainingTimeInMillis();
    // Assess
    expect([atStart, later, pastTimeout]).toEqual([3_000, 1_800, 0]);
  });

  it('describes the function the way Lambda does, with a fresh request id per context', () => {
    // Act
    const first = createLambdaContext({
      functionName: 'writer',
      timeoutMs: 1,
      region: 'eu-west-1',
      memoryMiB: 512,
    });
    const second = createLambdaContext({ functionName: 'writer', timeoutMs: 1, region: 'eu-west-1' });
    // Assess
    expect(first).toMatchObject({
      functionName: 'writer',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:writer',
      memoryLimitInMB: '512',
      logGroupName: '/aws/lambda/writer',
      logStreamName: expect.stringMatching(/^2026\/11\/26\/\[\$LATEST\][0-9a-f]{32}$/),
    });
    expect(first.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.awsRequestId).not.toBe(first.awsRequestId);
  });
});
