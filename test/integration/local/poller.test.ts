import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqsEventSourcePoller, type SqsPollerOptions } from '../../../shared/local/lambda/poller.ts';
import { createQueue, deleteQueue } from '../../../shared/local/resources/write-path.ts';

const sqs = new SQSClient({});
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TestQueue {
  readonly url: string;
  readonly dlqUrl: string;
}

/** A uniquely named queue with a DLQ; a 1 s visibility timeout (the default) makes redelivery quick. */
async function testQueue(
  options: { fifo?: boolean; maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<TestQueue> {
  const suffix = `${randomUUID().slice(0, 8)}${options.fifo ? '.fifo' : ''}`;
  const attributes = options.fifo ? { ContentBasedDeduplication: 'true' } : undefined;
  const dlq = await createQueue(sqs, { queueName: `poller-dlq-${suffix}`, fifo: options.fifo, attributes });
  const queue = await createQueue(sqs, {
    queueName: `poller-${suffix}`,
    fifo: options.fifo,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 1,
    redrive: { deadLetterTargetArn: dlq.arn, maxReceiveCount: options.maxReceiveCount ?? 5 },
    attributes,
  });
  cleanups.push(async () => {
    await deleteQueue(sqs, queue.url);
    await deleteQueue(sqs, dlq.url);
  });
  return { url: queue.url, dlqUrl: dlq.url };
}

/** Sends the bodies in order; on a FIFO queue a body's first letter is its message group. */
async function send(queue: TestQueue, bodies: readonly string[]): Promise<void> {
  const fifo = queue.url.endsWith('.fifo');
  for (let i = 0; i < bodies.length; i += 10) {
    const entries = bodies.slice(i, i + 10).map((body, j) => ({
      Id: String(j),
      MessageBody: body,
      MessageGroupId: fifo ? body.slice(0, 1) : undefined,
    }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
  }
}

async function started(queue: TestQueue, options: Partial<SqsPollerOptions>): Promise<SqsEventSourcePoller> {
  const poller = new SqsEventSourcePoller({
    sqs,
    queueUrl: queue.url,
    handler: async () => {},
    maxConcurrency: 1,
    maxBatchingWindowMs: 200,
    idleWaitSeconds: 0,
    // Within the test queue's visibility timeout, as Lambda requires.
    timeoutMs: 1_000,
    ...options,
  });
  await poller.start();
  cleanups.push(() => poller.stop());
  return poller;
}

/** Each body → the ApproximateReceiveCount of every delivery the handler saw. */
function deliveries(events: readonly SQSEvent[]): Record<string, string[]> {
  const seen: Record<string, string[]> = {};
  for (const record of events.flatMap((event) => event.Records)) {
    seen[record.body] = [...(seen[record.body] ?? []), record.attributes.ApproximateReceiveCount];
  }
  return seen;
}

function failures(records: readonly SQSRecord[]): SQSBatchResponse {
  return { batchItemFailures: records.map((record) => ({ itemIdentifier: record.messageId })) };
}

describe('SqsEventSourcePoller', () => {
  it('invokes batches of at most batchSize records, gathered within the batching window', async () => {
    // Prepare
    const queue = await testQueue();
    await send(
      queue,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    const sizes: number[] = [];
    // Act
    const poller = await started(queue, {
      batchSize: 10,
      handler: async (event) => {
        sizes.push(event.Records.length);
      },
    });
    await poller.drain();
    // Assess
    expect(sizes).toEqual([10, 10, 5]);
    expect(poller.stats).toMatchObject({ invocations: 3, records: 25, deleted: 25, failed: 0 });
  });

  it('hands the handler Lambda-shaped records', async () => {
    // Prepare
    const queue = await testQueue();
    await send(queue, ['hello']);
    const events: SQSEvent[] = [];
    // Act
    const poller = await started(queue, {
      handler: async (event) => {
        events.push(event);
      },
    });
    await poller.drain();
    // Assess
    expect(events[0]?.Records[0]).toMatchObject({
      body: 'hello',
      md5OfBody: '5d41402abc4b2a76b9719d911017c592',
      eventSource: 'aws:sqs',
      eventSourceARN: expect.stringMatching(/^arn:aws:sqs:[a-z0-9-]+:\d+:poller-/),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d+$/) },
    });
  });

  it('redelivers the reported failures after the visibility timeout and deletes them once they succeed', async () => {
    // Prepare
    const queue = await testQueue();
    await send(queue, ['m0', 'm1', 'm2', 'm3']);
    const events: SQSEvent[] = [];
    // Act
    const poller = await started(queue, {
      handler: async (event) => {
        events.push(event);
        return failures(
          event.Records.filter((r) => r.body === 'm2' && r.attributes.ApproximateReceiveCount === '1'),
        );
      },
    });
    await poller.drain();
    // Assess
    expect(deliveries(events)).toEqual({ m0: ['1'], m1: ['1'], m2: ['1', '2'], m3: ['1'] });
    expect(poller.stats).toMatchObject({ failed: 1, deleted: 4 });
  });

  it('moves a message that always fails to the DLQ after maxReceiveCount receives', async () => {
    // Prepare
    const queue = await testQueue({ maxReceiveCount: 2 });
    await send(queue, ['poison', 'fine']);
    const events: SQSEvent[] = [];
    // Act
    const poller = await started(queue, {
      handler: async (event) => {
        events.push(event);
        return failures(event.Records.filter((record) => record.body === 'poison'));
      },
    });
    await poller.drain();
    // Assess
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(deliveries(events)).toEqual({ poison: ['1', '2'], fine: ['1'] });
    expect(Messages.map((message) => message.Body)).toEqual(['poison']);
  });

  it('fails the whole batch when the handler throws', async () => {
    // Prepare
    const queue = await testQueue();
    await send(queue, ['m0', 'm1', 'm2']);
    const events: SQSEvent[] = [];
    const errors: unknown[] = [];
    // Act
    const poller = await started(queue, {
      onError: (error) => errors.push(error),
      handler: async (event) => {
        events.push(event);
        if (events.length === 1) throw new Error('boom');
      },
    });
    await poller.drain();
    // Assess
    expect(deliveries(events)).toEqual({ m0: ['1', '2'], m1: ['1', '2'], m2: ['1', '2'] });
    expect(errors).toEqual([new Error('boom')]);
    expect(poller.stats).toMatchObject({ invocations: 2, failedInvocations: 1, failed: 3, deleted: 3 });
  });

  it('counts getRemainingTimeInMillis down from the function timeout', async () => {
    // Prepare
    const queue = await testQueue({ visibilityTimeoutSeconds: 5 });
    await send(queue, ['m0']);
    const remaining: number[] = [];
    // Act
    const poller = await started(queue, {
      timeoutMs: 5_000,
      handler: async (_, context) => {
        remaining.push(context.getRemainingTimeInMillis());
        await sleep(50);
        remaining.push(context.getRemainingTimeInMillis());
      },
    });
    await poller.drain();
    // Assess
    const [atStart = 0, later = 0] = remaining;
    expect(atStart).toBeLessThanOrEqual(5_000);
    expect(atStart).toBeGreaterThan(0);
    expect(later).toBeLessThan(atStart);
  });

  it('fails a batch whose handler runs past the timeout', async () => {
    // Prepare
    const queue = await testQueue();
    await send(queue, ['slow']);
    const events: SQSEvent[] = [];
    const errors: unknown[] = [];
    // Act
    const poller = await started(queue, {
      timeoutMs: 200,
      onError: (error) => errors.push(error),
      handler: async (event) => {
        events.push(event);
        if (events.length === 1) await sleep(1_000);
      },
    });
    await poller.drain();
    // Assess
    expect(deliveries(events)).toEqual({ slow: ['1', '2'] });
    expect(errors).toEqual([expect.objectContaining({ code: 'HANDLER_TIMEOUT' })]);
  });

  it('keeps each FIFO message group in order across failures, one batch at a time', async () => {
    // Prepare
    const queue = await testQueue({ fifo: true, maxReceiveCount: 10 });
    await send(queue, ['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3', 'a4', 'b4', 'c4']);
    const processed: string[] = [];
    let running = 0;
    let mostAtOnce = 0;
    // Act
    const poller = await started(queue, {
      batchSize: 3,
      maxConcurrency: 4,
      handler: async (event) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        await sleep(20);
        // As a FIFO handler must: after a failure, fail the rest of that group in the batch too.
        const failed = event.Records.filter(
          (record, i) =>
            (record.body === 'b2' && record.attributes.ApproximateReceiveCount === '1') ||
            event.Records.slice(0, i).some((earlier) => earlier.body === 'b2' && record.body.startsWith('b')),
        );
        processed.push(...event.Records.filter((record) => !failed.includes(record)).map((r) => r.body));
        running--;
        return failures(failed);
      },
    });
    await poller.drain();
    // Assess
    const group = (letter: string) => processed.filter((body) => body.startsWith(letter));
    expect(group('a')).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(group('b')).toEqual(['b1', 'b2', 'b3', 'b4']);
    expect(group('c')).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(mostAtOnce).toBe(1);
  });

  it('lets running invocations finish when stopped', async () => {
    // Prepare
    const queue = await testQueue();
    await send(queue, ['m0']);
    let finished = false;
    const poller = await started(queue, {
      handler: async () => {
        await sleep(300);
        finished = true;
      },
    });
    await vi.waitFor(() => expect(poller.stats.invocations).toBe(1));
    // Act
    await poller.stop();
    // Assess
    expect(finished).toBe(true);
    expect(poller.stats.deleted).toBe(1);
  });

  it('refuses to start on a queue whose visibility timeout is below the function timeout, as Lambda does', async () => {
    // Prepare
    const queue = await testQueue({ visibilityTimeoutSeconds: 2 });
    const handler = vi.fn(async () => {});
    await send(queue, ['m0']);
    const poller = new SqsEventSourcePoller({ sqs, queueUrl: queue.url, handler, timeoutMs: 3_000 });
    // Act
    const starting = poller.start();
    // Assess
    await expect(starting).rejects.toThrow(
      expect.objectContaining({
        code: 'VISIBILITY_TIMEOUT_TOO_SHORT',
        visibilityTimeoutSeconds: 2,
        functionTimeoutMs: 3_000,
      }),
    );
    await poller.stop();
    expect(handler).not.toHaveBeenCalled();
  });

  it('gives up draining a queue nobody consumes', async () => {
    // Prepare
    const queue = await testQueue();
    await send(queue, ['m0']);
    const poller = new SqsEventSourcePoller({ sqs, queueUrl: queue.url, handler: async () => {} });
    // Act
    const draining = poller.drain({ timeoutMs: 300 });
    // Assess
    await expect(draining).rejects.toThrow(expect.objectContaining({ code: 'DRAIN_TIMEOUT', remaining: 1 }));
  });
});
