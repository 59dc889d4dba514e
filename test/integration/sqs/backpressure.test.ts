import { describe, expect, it } from 'vitest';
import { PipelineProducer } from '../../../shared/sqs/producer.ts';
import { createQueue, messageCount, sqsClient, startFaultProxy } from './support.ts';

describe('PipelineProducer backpressure', () => {
  it('keeps its buffer and requests in flight bounded while SQS is slow, and loses nothing', async () => {
    // Prepare: every request takes 25 ms more through the proxy; the producer streams 1,500 puts.
    const proxy = await startFaultProxy(() => ({ delayMs: 25 }));
    const direct = sqsClient();
    const slow = sqsClient({ endpoint: proxy.url });
    const queueUrl = await createQueue(direct, 'backpressure');
    const producer = new PipelineProducer({ queueUrl, client: slow, maxBuffered: 50, maxInFlight: 2 });
    const peak = { buffered: 0, waiting: 0, inFlight: 0 };
    let settled = 0;
    // Act
    for (let i = 0; i < 1500; i++) {
      const { receipt } = await producer.enqueueMessage({ op: 'put', item: { pk: `k${i}`, sk: '1', i } });
      receipt.then(() => settled++);
      peak.buffered = Math.max(peak.buffered, producer.sender.buffered);
      peak.waiting = Math.max(peak.waiting, producer.sender.waitingForRoom);
      peak.inFlight = Math.max(peak.inFlight, producer.sender.inFlight);
    }
    const admittedBeforeDone = 1500 - settled;
    await producer.close();
    // Assess: the buffer filled (so callers waited), but never grew past its bound.
    expect(peak).toEqual({ buffered: 50, waiting: 0, inFlight: 2 });
    expect(producer.stats).toMatchObject({ sent: 1500, failed: 0, peakBuffered: 50, peakInFlight: 2 });
    expect(admittedBeforeDone).toBeLessThanOrEqual(50 + 2 * 10);
    expect(await messageCount(direct, queueUrl)).toBe(1500);
    slow.destroy();
    direct.destroy();
    await proxy.close();
  });

  it('makes send() callers beyond the buffer wait for room instead of buffering them', async () => {
    // Prepare: one slow request at a time, room for 10 buffered messages.
    const proxy = await startFaultProxy(() => ({ delayMs: 100 }));
    const direct = sqsClient();
    const slow = sqsClient({ endpoint: proxy.url });
    const queueUrl = await createQueue(direct, 'waiters');
    const producer = new PipelineProducer({ queueUrl, client: slow, maxBuffered: 10, maxInFlight: 1 });
    // Act: 40 concurrent sends (10 go out at once, 10 fill the buffer, 20 wait).
    const sends = Array.from({ length: 40 }, (_, i) => producer.put({ pk: `k${i}`, sk: '1' }));
    const buffered = producer.sender.buffered;
    const waiting = producer.sender.waitingForRoom;
    await Promise.all(sends);
    // Assess
    expect({ buffered, waiting }).toEqual({ buffered: 10, waiting: 20 });
    expect(producer.stats).toMatchObject({ sent: 40, requestEntries: 40, peakBuffered: 10 });
    expect(producer.stats.requests).toBeGreaterThanOrEqual(4);
    await producer.close();
    slow.destroy();
    direct.destroy();
    await proxy.close();
  });
});
