import { readFileSync } from 'node:fs';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../../shared/local/aws/dynamodb-local.ts';
import { startEmbeddedAws } from '../../../shared/local/aws/embedded.ts';
import { localEnv } from '../../../shared/local/aws/local-env.ts';

// These tests start emulators of their own, next to the ones the global setup started.
const noSharedEndpoint = localEnv({ AWS_REGION: 'eu-west-1' });
const credentials = { accessKeyId: 'other', secretAccessKey: 'other' };

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startEmbeddedAws', () => {
  it('starts DynamoDB Local and SQS on ephemeral ports that answer until stopped', async () => {
    // Prepare
    const aws = await startEmbeddedAws({ env: noSharedEndpoint });
    const dynamodb = new DynamoDBClient({
      endpoint: aws.endpoints.dynamodb,
      region: 'eu-west-1',
      credentials,
      maxAttempts: 1,
    });
    const sqs = new SQSClient({
      endpoint: aws.endpoints.sqs,
      region: 'eu-west-1',
      credentials,
      maxAttempts: 1,
    });
    // Act
    const tables = await dynamodb.send(new ListTablesCommand({}));
    const queues = await sqs.send(new ListQueuesCommand({}));
    await aws.stop();
    // Assess
    expect(aws.started).toBe(true);
    expect(aws.endpoints.dynamodb).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.endpoints.sqs).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.endpoints.dynamodb).not.toBe(aws.endpoints.sqs);
    expect(tables.TableNames).toEqual([]);
    expect(queues.QueueUrls ?? []).toEqual([]);
    await expect(dynamodb.send(new ListTablesCommand({}))).rejects.toThrow();
    await expect(sqs.send(new ListQueuesCommand({}))).rejects.toThrow();
  });
});

describe('startDynamoDbLocal', () => {
  const originalPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = originalPath;
  });

  it('kills the JVM on stop and waits for it to exit', async () => {
    // Prepare
    const ddb = await startDynamoDbLocal();
    const runningBefore = isRunning(ddb.pid);
    // Act
    await ddb.stop();
    // Assess
    expect(runningBefore).toBe(true);
    expect(isRunning(ddb.pid)).toBe(false);
  });

  it('runs the JVM with telemetry off, in memory, with one shared database', async () => {
    // Prepare
    const ddb = await startDynamoDbLocal();
    // Act: the command line the kernel ran
    const cmdline = readFileSync(`/proc/${ddb.pid}/cmdline`, 'utf8').split('\0');
    await ddb.stop();
    // Assess
    expect(cmdline).toEqual(expect.arrayContaining(['-disableTelemetry', '-inMemory', '-sharedDb', '-jar']));
  });

  it('says Java is missing when it is not on PATH', async () => {
    // Prepare
    process.env.PATH = '/nonexistent';
    // Act
    const starting = startDynamoDbLocal();
    // Assess
    await expect(starting).rejects.toThrow(
      expect.objectContaining({
        code: 'EMULATOR_START',
        message: expect.stringMatching(/java was not found/),
      }),
    );
  });
});
