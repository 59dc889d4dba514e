import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type {
  InFlightMessage,
  InFlightRecorder,
} from '../../../../../shared/local/lambda/in-flight-journal.ts';
import { SqsEventSourcePoller } from '../../../../../shared/local/lambda/poller.ts';

const QUEUE = 'http://127.0.0.1:4001/123456789012/ingest';

/** A queue that hands out `messages` once, then nothing; it records what was deleted. */
function stubQueue(messages: readonly Message[]) {
  let pending = [...messages];
  const deleted: string[] = [];
  const client = {
    async send(command: unknown) {
      if (command instanceof GetQueueAttributesCommand)
        return { Attributes: { VisibilityTimeout: '360', QueueArn: 'arn:aws:sqs:us-east-1:1:ingest' } };
      if (command instanceof ReceiveMessageCommand) {
        const batch = pending.slice(0, command.input.MaxNumberOfMessages ?? 1);
        pending = pending.slice(batch.length);
        return { Messages: batch };
      }
      if (command instanceof DeleteMessageBatchCommand) {
        const entries = command.input.Entries ?? [];
        deleted.push(...entries.map((e) => e.Id!));
        return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
      }
      throw new Error('unexpected command');
    },
  };
  return { sqs: client as unknown as SQSClient, deleted };
}

/** Records what the poller reports; resolves `done` once `expected` messages were settled. */
function recorder(expected: number) {
  const received: InFlightMessage[] = [];
  const settled: string[] = [];
  let finish: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const inFlight: InFlightRecorder = {
    received: (messages) => received.push(...messages),
    settled: (ids) => {
      settled.push(...ids);
      if (settled.length >= expected) finish();
    },
  };
  return { inFlight, received, settled, done };
}

const message = (id: string): Message => ({ MessageId: id, ReceiptHandle: `rh-${id}`, Body: '{}' });

describe('SqsEventSourcePoller in-flight records', () => {
  it('records each received message, and settles deleted and failed ones once their batch finished', async () => {
    // Prepare
    const { sqs, deleted } = stubQueue([message('a'), message('b'), message('c')]);
    const journal = recorder(3);
    const poller = new SqsEventSourcePoller({
      sqs,
      queueUrl: QUEUE,
      batchSize: 10,
      maxBatchingWindowMs: 0,
      maxConcurrency: 1,
      idleWaitSeconds: 0,
      inFlight: journal.inFlight,
      handler: async () => ({ batchItemFailures: [{ itemIdentifier: 'b' }] }),
    });
    // Act
    await poller.start();
    await journal.done;
    await poller.stop();
    // Assess
    expect(journal.received).toEqual([
      { queueUrl: QUEUE, receiptHandle: 'rh-a', messageId: 'a' },
      { queueUrl: QUEUE, receiptHandle: 'rh-b', messageId: 'b' },
      { queueUrl: QUEUE, receiptHandle: 'rh-c', messageId: 'c' },
    ]);
    expect(deleted.sort()).toEqual(['a', 'c']);
    expect(journal.settled.sort()).toEqual(['a', 'b', 'c']);
  });

  it('keeps polling when the journal cannot be written, and says so', async () => {
    // Prepare
    const { sqs, deleted } = stubQueue([message('a')]);
    const errors: unknown[] = [];
    let handled!: () => void;
    const invoked = new Promise<void>((resolve) => {
      handled = resolve;
    });
    const poller = new SqsEventSourcePoller({
      sqs,
      queueUrl: QUEUE,
      maxBatchingWindowMs: 0,
      maxConcurrency: 1,
      idleWaitSeconds: 0,
      inFlight: {
        received: () => {
          throw new Error('disk full');
        },
        settled: () => handled(),
      },
      onError: (error) => errors.push(error),
      handler: async () => {},
    });
    // Act
    await poller.start();
    await invoked;
    await poller.stop();
    // Assess
    expect(deleted).toEqual(['a']);
    expect(errors).toEqual([new Error('disk full')]);
  });
});
