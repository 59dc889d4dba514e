import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { writePathSettings } from '../../pipeline/settings.ts';

export interface LambdaContextOptions {
  readonly functionName: string;
  /** The function timeout: `getRemainingTimeInMillis()` counts down from it. */
  readonly timeoutMs: number;
  readonly region: string;
  /** @default writePathSettings.function.memoryMiB */
  readonly memoryMiB?: number;
  /** When the invocation started (epoch ms). @default Date.now() */
  readonly startedAt?: number;
}

/** A Lambda `Context` for one local invocation, with a fresh request id and a real countdown. */
export function createLambdaContext(options: LambdaContextOptions): Context {
  const { functionName, region } = options;
  const deadline = (options.startedAt ?? Date.now()) + options.timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const noop = () => {};
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: String(options.memoryMiB ?? writePathSettings.function.memoryMiB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // Deprecated callback-style completions; async handlers never call them.
    done: noop,
    fail: noop,
    succeed: noop,
  };
}
