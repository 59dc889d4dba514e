import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { UnsupportedOperation } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedriveFlags } from '../../../../../shared/cli/dlq/flags.ts';
import { redrive } from '../../../../../shared/cli/dlq/redrive.ts';
import { MessageMoveTaskError } from '../../../../../shared/cli/errors.ts';
import { memoryIo } from '../../../../support/fakes/memory-io.ts';

const source = 'http://127.0.0.1:9/123456789012/ingest-dlq';
const destination = 'http://127.0.0.1:9/123456789012/ingest';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-dlq-redrive-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Handler = (input: Record<string, unknown>) => unknown;

/** An SQS client answering each command from `handlers` (an empty DLQ by default) and recording the calls. */
function stubClient(handlers: Record<string, Handler>) {
  const calls: string[] = [];
  const defaults: Record<string, Handler> = {
    GetQueueAttributesCommand: (input) => ({
      Attributes: {
        QueueArn: `arn:aws:sqs:us-east-1:123456789012:${String(input.QueueUrl).split('/').pop()}`,
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
      },
    }),
    ReceiveMessageCommand: () => ({ Messages: [] }),
    ChangeMessageVisibilityBatchCommand: () => ({ Successful: [] }),
  };
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      calls.push(name);
      const handler = handlers[name] ?? defaults[name];
      if (!handler) throw new Error(`unexpected ${name}`);
      return handler(command.input);
    },
    destroy: () => {},
  } as unknown as SQSClient;
  return { client, calls };
}

const flags = (extra: Partial<RedriveFlags> = {}): RedriveFlags => ({
  stackFile: 'none',
  visibilityTimeout: 30,
  journal: join(dir, `journal-${Math.random()}.jsonl`),
  quiet: true,
  ...extra,
});

const unsupported = () => {
  throw new UnsupportedOperation({
    message: 'Action ListMessageMoveTasks is currently not supported.',
    $metadata: {},
  });
};

describe('redrive: StartMessageMoveTask or the mover', () => {
  it('falls back to the mover where the endpoint has no message move tasks', async () => {
    // Prepare
    const { client, calls } = stubClient({ ListMessageMoveTasksCommand: unsupported });
    // Act
    const summary = await redrive({ client, source, destination }, flags(), memoryIo({ cwd: dir }));
    // Assess
    expect(summary).toMatchObject({ method: 'mover', moved: 0 });
    expect(summary.method === 'mover' && summary.fallbackReason).toContain('UnsupportedOperation');
    expect(calls).toContain('ReceiveMessageCommand');
    expect(calls).not.toContain('StartMessageMoveTaskCommand');
  });

  it('starts a move task for a whole-queue redrive, at --rate, and follows it to the end', async () => {
    // Prepare
    const started: Record<string, unknown>[] = [];
    let polls = 0;
    const { client, calls } = stubClient({
      ListMessageMoveTasksCommand: () => ({
        Results:
          started.length === 0
            ? []
            : [
                {
                  Status: ++polls < 2 ? 'RUNNING' : 'COMPLETED',
                  TaskHandle: polls < 2 ? 'h1' : undefined,
                  ApproximateNumberOfMessagesMoved: 5,
                  ApproximateNumberOfMessagesToMove: 5,
                },
              ],
      }),
      StartMessageMoveTaskCommand: (input) => {
        started.push(input);
        return { TaskHandle: 'h1' };
      },
    });
    // Act
    const summary = await redrive(
      { client, source, destination },
      flags({ rate: 20 }),
      memoryIo({ cwd: dir }),
    );
    // Assess
    expect(started).toEqual([
      {
        SourceArn: 'arn:aws:sqs:us-east-1:123456789012:ingest-dlq',
        DestinationArn: 'arn:aws:sqs:us-east-1:123456789012:ingest',
        MaxNumberOfMessagesPerSecond: 20,
      },
    ]);
    expect(summary).toMatchObject({
      method: 'move-task',
      attached: false,
      task: { status: 'COMPLETED', moved: 5 },
    });
    expect(calls).not.toContain('ReceiveMessageCommand');
  });

  it('follows a task already running instead of starting a second one', async () => {
    const { client, calls } = stubClient({
      ListMessageMoveTasksCommand: () => ({
        Results: [
          {
            Status: calls.length > 4 ? 'COMPLETED' : 'RUNNING',
            TaskHandle: 'h0',
            StartedTimestamp: 7,
            ApproximateNumberOfMessagesMoved: 3,
          },
        ],
      }),
    });
    const summary = await redrive({ client, source, destination }, flags(), memoryIo({ cwd: dir }));
    expect(summary).toMatchObject({ method: 'move-task', attached: true, task: { status: 'COMPLETED' } });
    expect(calls).not.toContain('StartMessageMoveTaskCommand');
  });

  it('uses the mover for a filter without trying a move task', async () => {
    const { client, calls } = stubClient({});
    const summary = await redrive(
      { client, source, destination },
      flags({ filter: { codes: ['INVALID_JSON'] } }),
      memoryIo({ cwd: dir }),
    );
    expect(summary).toMatchObject({ method: 'mover', codes: ['INVALID_JSON'] });
    expect(calls).not.toContain('ListMessageMoveTasksCommand');
  });

  it('reports a move task SQS refuses to start as a typed error (exit 1) naming --mover', async () => {
    const denied = Object.assign(new Error('not authorized to perform sqs:StartMessageMoveTask'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const { client } = stubClient({
      ListMessageMoveTasksCommand: () => ({ Results: [] }),
      StartMessageMoveTaskCommand: () => {
        throw denied;
      },
    });
    const run = redrive({ client, source, destination }, flags(), memoryIo({ cwd: dir }));
    await expect(run).rejects.toBeInstanceOf(MessageMoveTaskError);
    await expect(run).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('--mover') });
  });

  it.each([
    [{ rate: 0.5 }, 'whole number of messages per second from 1 to 500'],
    [{ rate: 600 }, 'add --mover'],
  ])('refuses %j for a move task', async (extra, message) => {
    const { client } = stubClient({});
    await expect(
      redrive({ client, source, destination }, flags(extra), memoryIo({ cwd: dir })),
    ).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining(message),
    });
  });

  it('refuses to pair a FIFO DLQ with a standard destination', async () => {
    const { client } = stubClient({});
    await expect(
      redrive({ client, source: `${source}.fifo`, destination }, flags(), memoryIo({ cwd: dir })),
    ).rejects.toMatchObject({
      code: 'USAGE',
      exitCode: 2,
      message: expect.stringContaining('must both be FIFO queues'),
    });
  });
});
