import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MessageTooLargeError,
  SenderClosedError,
  SqsBatchSender,
  type SqsBatchSenderOptions,
  SqsRejectedError,
  sqsLimits,
} from '../../../shared/sqs/producer.ts';
import { createQueue, receiveAll, sqsClient } from './support.ts';

const KIB = 1024;
let client: SQSClient;

beforeAll(() => {
  client = sqsClient();
});

afterAll(() => {
  client.destroy();
});

async function sender(prefix: string, options: Partial<SqsBatchSenderOptions> = {}) {
  const queueUrl = await createQueue(client, prefix);
  return { queueUrl, sender: new SqsBatchSender({ queueUrl, client, ...options }) };
}

describe('SqsBatchSender batching', () => {
  it('sends 25 messages in requests of 10, 10 and 5', async () => {
    // Prepare
    const { queueUrl, sender: s } = await sender('batching', { maxDelayMs: 0 });
    const bodies = Array.from({ length: 25 }, (_, i) => `message-${i}`);
    // Act
    const receipts = await Promise.all(bodies.map((body) => s.enqueue({ body })));
    await s.flush();
    const ids = await Promise.all(receipts.map((r) => r.receipt));
    // Assess
    expect(s.stats).toMatchObject({ sent: 25, failed: 0, requests: 3, requestEntries: 25 });
    expect(new Set(ids.map((r) => r.messageId)).size).toBe(25);
    const received = await receiveAll(client, queueUrl);
    expect(received.map((m) => m.Body).sort()).toEqual([...bodies].sort());
  });

  it('sends a lone message once maxDelayMs has passed, without a flush', async () => {
    const { sender: s } = await sender('latency', { maxDelayMs: 20 });
    const receipt = await s.send({ body: 'alone' });
    expect(receipt).toMatchObject({ messageId: expect.any(String), attempts: 1 });
    expect(s.stats.requests).toBe(1);
  });

  it('carries message attributes, as the DLQ path needs', async () => {
    // Prepare
    const { queueUrl, sender: s } = await sender('attributes');
    // Act
    await s.send({
      body: '{"op":"upsert"}',
      messageAttributes: {
        ErrorCode: { DataType: 'String', StringValue: 'UNKNOWN_OP' },
        ErrorMessage: { DataType: 'String', StringValue: 'op: invalid' },
      },
    });
    // Assess
    const [message] = await receiveAll(client, queueUrl);
    expect(message?.MessageAttributes).toMatchObject({
      ErrorCode: { DataType: 'String', StringValue: 'UNKNOWN_OP' },
      ErrorMessage: { DataType: 'String', StringValue: 'op: invalid' },
    });
  });
});

describe('SqsBatchSender request size limit', () => {
  it('is enforced by the emulator: one request of 4 × 300 KiB is refused whole', async () => {
    const queueUrl = await createQueue(client, 'too-long');
    const entries = Array.from({ length: 4 }, (_, i) => ({
      Id: String(i),
      MessageBody: 'x'.repeat(300 * KIB),
    }));
    await expect(
      client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })),
    ).rejects.toThrow(/1048576 bytes/);
  });

  it('splits 300 KiB messages three to a request, so none passes 1 MiB', async () => {
    // Prepare: an SDK middleware records the body bytes of every SendMessageBatch the sender makes.
    const observed = sqsClient();
    const requestBytes: number[] = [];
    observed.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendMessageBatchCommand') {
          const input = args.input as SendMessageBatchCommandInput;
          requestBytes.push((input.Entries ?? []).reduce((n, e) => n + (e.MessageBody?.length ?? 0), 0));
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordRequestBytes' },
    );
    const queueUrl = await createQueue(observed, 'split');
    const s = new SqsBatchSender({ queueUrl, client: observed, maxDelayMs: 0 });
    const bodies = Array.from({ length: 7 }, (_, i) => `${i}`.padEnd(300 * KIB, 'x'));
    // Act
    const receipts = await Promise.all(bodies.map((body) => s.enqueue({ body })));
    await s.close();
    await Promise.all(receipts.map((r) => r.receipt));
    // Assess: three to a request (a request retried on a loaded machine is sent again whole).
    expect(s.stats).toMatchObject({ sent: 7, failed: 0 });
    expect(requestBytes.length).toBe(s.stats.requests);
    expect(requestBytes.every((bytes) => bytes <= 3 * 300 * KIB)).toBe(true);
    expect(requestBytes.length).toBeGreaterThanOrEqual(3);
    observed.destroy();
    expect((await receiveAll(client, queueUrl)).map((m) => m.Body?.[0]).sort()).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
    ]);
  });

  it('sends a message of exactly 1 MiB and refuses one byte more without sending it', async () => {
    // Prepare
    const { queueUrl, sender: s } = await sender('one-mib');
    // Act
    const exact = await s.send({ body: 'y'.repeat(sqsLimits.maxMessageBytes) });
    const over = s.send({ body: 'y'.repeat(sqsLimits.maxMessageBytes + 1) });
    // Assess
    expect(exact.messageId).toBeTruthy();
    await expect(over).rejects.toThrow(MessageTooLargeError);
    expect(s.stats).toMatchObject({ sent: 1, requests: 1, failedByReason: { MESSAGE_TOO_LARGE: 1 } });
    const [message] = await receiveAll(client, queueUrl);
    expect(message?.Body).toHaveLength(sqsLimits.maxMessageBytes);
  });
});

describe('SqsBatchSender flush and close', () => {
  it('flush sends a partial batch that maxDelayMs 0 would hold, and waits for it to settle', async () => {
    // Prepare
    const { sender: s } = await sender('flush', { maxDelayMs: 0 });
    const pending = await Promise.all(['a', 'b', 'c'].map((body) => s.enqueue({ body })));
    expect(s.stats.requests).toBe(0);
    // Act
    await s.flush();
    // Assess
    expect(s.stats).toMatchObject({ sent: 3, requests: 1 });
    await expect(Promise.all(pending.map((p) => p.receipt))).resolves.toHaveLength(3);
  });

  it('close drains what was buffered, then refuses new messages', async () => {
    // Prepare
    const { queueUrl, sender: s } = await sender('close', { maxDelayMs: 0 });
    const pending = await Promise.all(['a', 'b'].map((body) => s.enqueue({ body })));
    // Act
    await s.close();
    const late = s.send({ body: 'late' });
    // Assess
    await expect(Promise.all(pending.map((p) => p.receipt))).resolves.toHaveLength(2);
    await expect(late).rejects.toThrow(SenderClosedError);
    expect((await receiveAll(client, queueUrl)).map((m) => m.Body).sort()).toEqual(['a', 'b']);
  });

  it('leaves a client it was given usable after close', async () => {
    const { queueUrl, sender: s } = await sender('shared-client');
    await s.close();
    const again = new SqsBatchSender({ queueUrl, client });
    await expect(again.send({ body: 'still works' })).resolves.toMatchObject({ attempts: 1 });
    await again.close();
  });

  it('rejects at once, without retrying, when the queue does not exist', async () => {
    // Prepare
    const queueUrl = (await createQueue(client, 'exists')).replace(/exists-[^/]+$/, 'missing-queue');
    const s = new SqsBatchSender({ queueUrl, client });
    // Act
    const sent = s.send({ body: 'nowhere' });
    // Assess
    await expect(sent).rejects.toThrow(SqsRejectedError);
    await expect(sent).rejects.toMatchObject({ attempts: 1 });
    expect(s.stats).toMatchObject({ requests: 1, retries: 0, failed: 1 });
    await s.close();
  });
});
