import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FunctionCrashError,
  FunctionError,
  FunctionInitError,
  FunctionPool,
  type FunctionPoolOptions,
  FunctionPoolStoppedError,
  FunctionTimeoutError,
  lambdaRuntimeEnv,
  mergeFunctionEnv,
  poolHandler,
} from '../../../shared/local/cloud/lambda/index.ts';
import { createLambdaContext } from '../../../shared/local/lambda/lambda-context.ts';
import { SqsEventSourcePoller } from '../../../shared/local/lambda/poller.ts';
import { createQueue, deleteQueue } from '../../../shared/local/resources/write-path.ts';
import { sqsRecord } from '../../support/factories/sqs.ts';

const ASSETS = fileURLToPath(new URL('../../support/fixtures/lambda-assets/', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the echo fixture returns. */
interface Echo {
  readonly event: unknown;
  readonly pid: number;
  readonly invocations: number;
  readonly mostInFlight: number;
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly context: Record<string, unknown>;
}

/** The runtime variables of a fixture function, with `variables` as its template's own. */
function envOf(asset: string, variables: Record<string, string> = {}): Record<string, string> {
  const runtime = lambdaRuntimeEnv({
    functionName: `fn-${asset}`,
    memoryMiB: 256,
    region: 'eu-west-1',
    handler: 'index.handler',
    taskRoot: `${ASSETS}${asset}`,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
  return mergeFunctionEnv(runtime, variables);
}

/** A pool over the fixture asset `asset`, stopped after the test; its log lines are collected. */
function poolOf(asset: string, options: Partial<FunctionPoolOptions> = {}) {
  const logs: string[] = [];
  const pool = new FunctionPool({
    functionName: `fn-${asset}`,
    taskRoot: `${ASSETS}${asset}`,
    handler: 'index.handler',
    env: envOf(asset),
    timeoutMs: 30_000,
    maxInstances: 1,
    memoryMiB: 256,
    onLog: (line) => logs.push(line),
    ...options,
  });
  cleanups.push(() => pool.stop());
  return { pool, logs };
}

function contextFor(functionName: string): Context {
  return createLambdaContext({ functionName, timeoutMs: 30_000, region: 'eu-west-1' });
}

describe('FunctionPool', () => {
  it('runs the handler from its asset and returns its result, with a Lambda-shaped context', async () => {
    // Prepare
    const { pool } = poolOf('echo');
    // Act
    const echo = (await pool.invoke({ hello: 'world' }, { requestId: 'req-1' })) as Echo;
    // Assess
    expect(echo.event).toEqual({ hello: 'world' });
    expect(echo.cwd).toBe(`${ASSETS}echo`);
    expect(echo.context).toEqual({
      awsRequestId: 'req-1',
      functionName: 'fn-echo',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn-echo',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/fn-echo',
      logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/),
      callbackWaitsForEmptyEventLoop: true,
      remainingTimeMs: expect.any(Number),
    });
    expect(echo.context.remainingTimeMs).toBeGreaterThan(0);
    expect(echo.context.remainingTimeMs).toBeLessThanOrEqual(30_000);
  });

  it("gives the instance exactly its environment, none of this process's", async () => {
    // Prepare
    const env = envOf('echo', { GREETING: 'hello', NODE_OPTIONS: '--enable-source-maps' });
    process.env.FUNCTION_POOL_TEST_PARENT_ONLY = 'leaked';
    cleanups.push(async () => {
      delete process.env.FUNCTION_POOL_TEST_PARENT_ONLY;
    });
    const { pool } = poolOf('echo', { env });
    // Act
    const echo = (await pool.invoke({})) as Echo;
    // Assess
    expect(echo.env).toEqual(env);
    expect(echo.env).toMatchObject({
      GREETING: 'hello',
      AWS_LAMBDA_FUNCTION_NAME: 'fn-echo',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      TZ: ':UTC',
    });
  });

  it('reuses the warm instance for the next invocation', async () => {
    // Prepare
    const { pool } = poolOf('echo');
    // Act
    const first = (await pool.invoke({})) as Echo;
    const second = (await pool.invoke({})) as Echo;
    // Assess
    expect(second.pid).toBe(first.pid);
    expect(second.invocations).toBe(2);
    expect(pool.stats).toMatchObject({ invocations: 2, coldStarts: 1, instances: 1 });
  });

  it('runs at most maxInstances instances, each serving one invocation at a time', async () => {
    // Prepare
    const { pool } = poolOf('echo', { maxInstances: 2 });
    // Act
    const results = (await Promise.all(
      Array.from({ length: 6 }, (_, i) => pool.invoke({ i, sleepMs: 50 })),
    )) as Echo[];
    // Assess
    expect(results.map((echo) => echo.event)).toEqual(
      Array.from({ length: 6 }, (_, i) => ({ i, sleepMs: 50 })),
    );
    expect(new Set(results.map((echo) => echo.pid)).size).toBe(2);
    expect(results.every((echo) => echo.mostInFlight === 1)).toBe(true);
    expect(pool.stats).toMatchObject({ invocations: 6, coldStarts: 2, instances: 2, queued: 0 });
  });

  it('kills an invocation that runs past the timeout and serves the next on a fresh instance', async () => {
    // Prepare
    const { pool } = poolOf('slow', { timeoutMs: 300 });
    // Act
    const late = pool.invoke({ sleepMs: 5_000 });
    // Assess
    await expect(late).rejects.toThrow(FunctionTimeoutError);
    await expect(late).rejects.toMatchObject({
      code: 'FUNCTION_TIMEOUT',
      errorType: 'Sandbox.Timedout',
      message: 'fn-slow: Task timed out after 0.30 seconds',
    });
    await expect(pool.invoke({ sleepMs: 0 })).resolves.toEqual({ pid: expect.any(Number) });
    expect(pool.stats).toMatchObject({ timeouts: 1, coldStarts: 2, instances: 1 });
  });

  it('rejects with FunctionCrashError when the instance exits mid-invocation, and replaces it', async () => {
    // Prepare
    const { pool } = poolOf('crash');
    // Act
    const crashed = pool.invoke({ exit: true });
    // Assess
    await expect(crashed).rejects.toThrow(FunctionCrashError);
    await expect(crashed).rejects.toMatchObject({ code: 'FUNCTION_CRASH', exitCode: 3, signal: null });
    await expect(pool.invoke({})).resolves.toEqual({ pid: expect.any(Number) });
    expect(pool.stats).toMatchObject({ crashes: 1, coldStarts: 2, instances: 1 });
  });

  it('reports an uncaught exception as a crash, with what the instance wrote to stderr', async () => {
    // Prepare
    const { pool, logs } = poolOf('crash');
    // Act
    const crashed = pool.invoke({ uncaught: true });
    // Assess
    await expect(crashed).rejects.toMatchObject({
      code: 'FUNCTION_CRASH',
      exitCode: 1,
      stderrTail: expect.stringContaining('background task failed'),
    });
    expect(logs.some((line) => line.includes('background task failed'))).toBe(true);
  });

  it("rejects with FunctionError carrying the handler's error, and keeps the instance warm", async () => {
    // Prepare
    const { pool } = poolOf('throws');
    // Act
    const [first, second] = await Promise.allSettled([
      pool.invoke({ kind: 'parcel' }),
      pool.invoke({ kind: 'letter' }),
    ]);
    // Assess
    expect(first).toEqual({ status: 'rejected', reason: expect.any(FunctionError) });
    expect(first).toMatchObject({
      reason: {
        code: 'FUNCTION_ERROR',
        errorType: 'ValidationError',
        errorMessage: 'cannot handle parcel',
        functionStack: expect.stringContaining('throws/index.mjs'),
      },
    });
    expect(second).toMatchObject({ reason: { errorMessage: 'cannot handle letter' } });
    expect(pool.stats).toMatchObject({ errors: 2, coldStarts: 1, instances: 1 });
  });

  it('reports a module that fails to import as Runtime.ImportModuleError', async () => {
    // Prepare
    const { pool } = poolOf('import-fails');
    // Act
    const invoked = pool.invoke({});
    // Assess
    await expect(invoked).rejects.toThrow(FunctionInitError);
    await expect(invoked).rejects.toMatchObject({
      code: 'FUNCTION_INIT',
      errorType: 'Runtime.ImportModuleError',
      errorMessage: expect.stringContaining('no-such-package-for-lambda-fixtures'),
    });
    expect(pool.stats).toMatchObject({ initErrors: 1, instances: 0 });
  });

  it('kills an instance whose init runs past the init limit', async () => {
    // Prepare
    const { pool } = poolOf('slow-init', { initTimeoutMs: 300 });
    // Act
    const invoked = pool.invoke({});
    // Assess
    await expect(invoked).rejects.toMatchObject({
      code: 'FUNCTION_INIT',
      errorType: 'Sandbox.Timedout',
      errorMessage: 'Init timed out after 0.30 seconds',
    });
    expect(pool.stats).toMatchObject({ initErrors: 1, instances: 0 });
  });

  it('reports a handler the module does not export as Runtime.HandlerNotFound', async () => {
    // Prepare
    const { pool } = poolOf('echo', {
      handler: 'index.missing',
      env: { ...envOf('echo'), _HANDLER: 'index.missing' },
    });
    // Act
    const invoked = pool.invoke({});
    // Assess
    await expect(invoked).rejects.toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.missing is undefined or not exported',
    });
  });

  it("passes each instance's output lines to onLog, naming the function and the instance", async () => {
    // Prepare
    const lines: Array<{ line: string; functionName: string; instance: number }> = [];
    const { pool } = poolOf('echo', { onLog: (line, source) => lines.push({ line, ...source }) });
    // Act
    await pool.invoke({});
    await pool.stop();
    // Assess
    expect(lines).toEqual([{ line: 'echo invoked', functionName: 'fn-echo', instance: 1 }]);
  });

  it('rejects running and new invocations once stopped', async () => {
    // Prepare
    const { pool } = poolOf('slow');
    const running = pool.invoke({ sleepMs: 5_000 });
    // Act
    const [outcome] = await Promise.allSettled([running, pool.stop()]);
    // Assess
    expect(outcome).toEqual({ status: 'rejected', reason: expect.any(FunctionPoolStoppedError) });
    await expect(pool.invoke({})).rejects.toThrow(FunctionPoolStoppedError);
    expect(pool.stats.instances).toBe(0);
  });
});

describe('poolHandler', () => {
  it("returns the function's batchItemFailures", async () => {
    // Prepare
    const { pool } = poolOf('partial-batch');
    const records = [sqsRecord('ok'), sqsRecord('fail')];
    // Act
    const response = await poolHandler(pool)({ Records: records }, contextFor('fn-partial-batch'));
    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
  });

  it('serves an SqsEventSourcePoller: the reported failure ends in the DLQ, the rest is deleted', async () => {
    // Prepare
    const sqs = new SQSClient({});
    const suffix = randomUUID().slice(0, 8);
    const dlq = await createQueue(sqs, { queueName: `pool-dlq-${suffix}` });
    const queue = await createQueue(sqs, {
      queueName: `pool-${suffix}`,
      visibilityTimeoutSeconds: 2,
      redrive: { deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 },
    });
    cleanups.push(async () => {
      await deleteQueue(sqs, queue.url);
      await deleteQueue(sqs, dlq.url);
    });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: ['ok', 'fail'].map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
    const { pool } = poolOf('partial-batch');
    const poller = new SqsEventSourcePoller({
      sqs,
      queueUrl: queue.url,
      handler: poolHandler(pool),
      maxConcurrency: 1,
      maxBatchingWindowMs: 200,
      idleWaitSeconds: 0,
      timeoutMs: 2_000,
    });
    // Act
    await poller.start();
    cleanups.push(() => poller.stop());
    await poller.drain();
    // Assess
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages.map((message) => message.Body)).toEqual(['fail']);
    expect(poller.stats).toMatchObject({ deleted: 1, failed: 1 });
  });
});
