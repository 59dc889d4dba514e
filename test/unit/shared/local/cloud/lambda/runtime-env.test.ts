import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../../../../shared/core/options.ts';
import {
  type LambdaRuntimeEnvOptions,
  lambdaRuntimeEnv,
  mergeFunctionEnv,
  reservedVariablesIn,
} from '../../../../../../shared/local/cloud/lambda/runtime-env.ts';

const options: LambdaRuntimeEnvOptions = {
  functionName: 'batch-writer',
  memoryMiB: 1024,
  timeoutSeconds: 60,
  region: 'eu-west-1',
  handler: 'index.handler',
  taskRoot: '/work/cdk.out/asset.abc',
  logStreamName: '2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef',
  credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'secret', sessionToken: 'token' },
};

describe('lambdaRuntimeEnv', () => {
  it("sets the variables Lambda's Node.js 24 runtime sets", () => {
    // Act
    const env = lambdaRuntimeEnv(options);
    // Assess
    expect(env).toEqual({
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: 'batch-writer',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/batch-writer',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef',
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      _HANDLER: 'index.handler',
      LAMBDA_TASK_ROOT: '/work/cdk.out/asset.abc',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      NODE_PATH:
        '/opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/work/cdk.out/asset.abc',
    });
  });

  it('names a fresh log stream the way Lambda does, and the log group after the function unless told', () => {
    // Act
    const first = lambdaRuntimeEnv({ ...options, logStreamName: undefined });
    const second = lambdaRuntimeEnv({ ...options, logStreamName: undefined, logGroupName: '/custom/group' });
    // Assess
    expect(first.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(second.AWS_LAMBDA_LOG_STREAM_NAME).not.toBe(first.AWS_LAMBDA_LOG_STREAM_NAME);
    expect([first.AWS_LAMBDA_LOG_GROUP_NAME, second.AWS_LAMBDA_LOG_GROUP_NAME]).toEqual([
      '/aws/lambda/batch-writer',
      '/custom/group',
    ]);
  });

  it('sets no session token for long-term credentials, and an absolute task root', () => {
    // Act
    const env = lambdaRuntimeEnv({
      ...options,
      taskRoot: 'cdk.out/asset.abc',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'secret' },
    });
    // Assess
    expect(env).not.toHaveProperty('AWS_SESSION_TOKEN');
    expect(env.LAMBDA_TASK_ROOT).toBe(resolve('cdk.out/asset.abc'));
  });

  it('names the option that is out of range', () => {
    // Act
    const build = () => lambdaRuntimeEnv({ ...options, memoryMiB: 64 });
    // Assess
    expect(build).toThrow(InvalidOptionError);
    expect(build).toThrow('lambdaRuntimeEnv option memoryMiB: got 64; use an integer from 128 to 10240');
  });
});

describe('mergeFunctionEnv', () => {
  it("lets the function's variables add to and override the unreserved ones, never the reserved ones", () => {
    // Prepare
    const runtime = lambdaRuntimeEnv({
      ...options,
      credentials: { accessKeyId: 'AKID', secretAccessKey: 's' },
    });
    // Act
    const env = mergeFunctionEnv(runtime, {
      TABLE_ROUTES: '{}',
      LANG: 'C.UTF-8',
      AWS_REGION: 'us-east-1',
      AWS_SESSION_TOKEN: 'forged',
    });
    // Assess
    expect(env).toEqual({ ...runtime, TABLE_ROUTES: '{}', LANG: 'C.UTF-8' });
  });
});

describe('reservedVariablesIn', () => {
  it('lists the reserved names a template sets, sorted', () => {
    // Act
    const reserved = reservedVariablesIn({ TZ: 'Europe/Paris', DLQ_URL: 'x', AWS_REGION: 'us-east-1' });
    // Assess
    expect(reserved).toEqual(['AWS_REGION', 'TZ']);
  });
});
