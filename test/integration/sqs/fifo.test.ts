import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineProducer, SqsBatchSender, SqsRejectedError } from '../../../shared/sqs/producer.ts';
import { createQueue, receiveAll, sqsClient } from './support.ts';

let client: SQSClient;
beforeAll(() => {
  client = sqsClient();
});
afterAll(() => {
  client.destroy();
});

describe('FIFO queues', () => {
  it('keeps every message group in order with many requests in flight', async () => {
    // Prepare: 90 versioned puts over 3 groups, sent 8 requests at a time in small batches.
    const queueUrl = await createQueue(client, 'fifo-order', { fifo: true });
    const producer = new PipelineProducer({ queueUrl, client, maxInFlight: 8, maxBatchEntries: 3 });
    // Act
    await Promise.all(
      Array.from({ length: 90 }, (_, i) =>
        producer.put(
          { pk: `key-${i % 3}`, sk: '1', seq: Math.floor(i / 3) },
          { version: Math.floor(i / 3) + 1, groupId: `g${i % 3}`, dedupId: `m-${i}` },
        ),
      ),
    );
    await producer.close();
    // Assess: within each group, messages arrive in send order. (local-aws-sqs's sequence numbers are
    // not numerically ordered, so the bodies tell the order.)
    const received = await receiveAll(client, queueUrl);
    expect(received).toHaveLength(90);
    for (const group of ['g0', 'g1', 'g2']) {
      const mine = received.filter((m) => m.Attributes?.MessageGroupId === group);
      const seqs = mine.map((m) => JSON.parse(m.Body!).item.seq);
      expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i));
    }
    expect(producer.stats.peakInFlight).toBeGreaterThan(1);
  });

  it('lets SQS drop a duplicate sent with the same deduplication id', async () => {
    const queueUrl = await createQueue(client, 'fifo-dedup', { fifo: true });
    const sender = new SqsBatchSender({ queueUrl, client });
    const first = await sender.send({ body: 'once', messageGroupId: 'g', messageDeduplicationId: 'same' });
    const second = await sender.send({ body: 'once', messageGroupId: 'g', messageDeduplicationId: 'same' });
    await sender.close();
    expect(second.messageId).toBe(first.messageId);
    expect(await receiveAll(client, queueUrl)).toHaveLength(1);
  });

  it('needs no deduplication id on a queue with content-based deduplication', async () => {
    const queueUrl = await createQueue(client, 'fifo-content', {
      fifo: true,
      contentBasedDeduplication: true,
    });
    const sender = new SqsBatchSender({ queueUrl, client });
    const receipt = await sender.send({ body: 'content', messageGroupId: 'g' });
    await sender.close();
    expect(receipt.sequenceNumber).toMatch(/^\d+$/);
  });

  it('reports SQS’s reason when a queue without content-based deduplication gets no id', async () => {
    const queueUrl = await createQueue(client, 'fifo-noid', { fifo: true });
    const sender = new SqsBatchSender({ queueUrl, client });
    const sent = sender.send({ body: 'no id', messageGroupId: 'g' });
    await expect(sent).rejects.toThrow(SqsRejectedError);
    await expect(sent).rejects.toThrow(/ContentBasedDeduplication/);
    await sender.close();
  });
});
