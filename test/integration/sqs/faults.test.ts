import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { RetriesExhaustedError, SqsBatchSender, SqsRejectedError } from '../../../shared/sqs/producer.ts';
import { createQueue, injectEntryFailures, receiveAll, sqsClient, startFaultProxy } from './support.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function client(endpoint?: string): SQSClient {
  const created = sqsClient(endpoint ? { endpoint } : {});
  cleanup.push(() => created.destroy());
  return created;
}

const fast = { retryBaseDelayMs: 1, retryMaxDelayMs: 5 };
const bodies = (n: number) => Array.from({ length: n }, (_, i) => `message-${i}`);

describe('SqsBatchSender retries', () => {
  it('re-sends entries SQS failed with SenderFault false, so each arrives exactly once', async () => {
    // Prepare: the first two calls fail every even-numbered message as SQS's internal error.
    const sqs = client();
    const queueUrl = await createQueue(sqs, 'entry-retry');
    injectEntryFailures(sqs, (call, body) =>
      call <= 2 && Number(body.split('-')[1]) % 2 === 0
        ? { Code: 'InternalError', SenderFault: false, Message: 'injected' }
        : undefined,
    );
    const sender = new SqsBatchSender({ queueUrl, client: sqs, ...fast });
    // Act
    const receipts = await Promise.all(bodies(20).map((body) => sender.send({ body })));
    // Assess
    expect(receipts.filter((r) => r.attempts > 1).length).toBeGreaterThan(0);
    expect(sender.stats).toMatchObject({ sent: 20, failed: 0 });
    expect(sender.stats.retries).toBeGreaterThan(0);
    const received = (await receiveAll(sqs, queueUrl)).map((m) => m.Body);
    expect(received.sort()).toEqual(bodies(20).sort());
    await sender.close();
  });

  it('rejects an entry SQS refused as the sender’s fault at once, with SQS’s code, and sends the rest', async () => {
    // Prepare: a delay over 900 s is refused by SQS per entry (SenderFault true).
    const sqs = client();
    const queueUrl = await createQueue(sqs, 'entry-reject');
    const sender = new SqsBatchSender({ queueUrl, client: sqs, ...fast });
    // Act
    const results = await Promise.allSettled([
      sender.send({ body: 'fine-1' }),
      sender.send({ body: 'too-late', delaySeconds: 901 }),
      sender.send({ body: 'fine-2' }),
    ]);
    // Assess
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(SqsRejectedError);
    expect(reason).toMatchObject({ sqsCode: 'InvalidParameterValue', attempts: 1 });
    expect(sender.stats).toMatchObject({
      sent: 2,
      failed: 1,
      retries: 0,
      failedByReason: { InvalidParameterValue: 1 },
    });
    expect((await receiveAll(sqs, queueUrl)).map((m) => m.Body).sort()).toEqual(['fine-1', 'fine-2']);
    await sender.close();
  });

  it('gives up after maxAttempts with the last failure SQS gave', async () => {
    // Prepare
    const sqs = client();
    const queueUrl = await createQueue(sqs, 'exhausted');
    injectEntryFailures(sqs, (_, body) =>
      body === 'doomed' ? { Code: 'ServiceUnavailable', SenderFault: false, Message: 'injected' } : undefined,
    );
    const sender = new SqsBatchSender({ queueUrl, client: sqs, maxAttempts: 3, ...fast });
    // Act
    const doomed = sender.send({ body: 'doomed' });
    const fine = sender.send({ body: 'fine' });
    // Assess
    await expect(doomed).rejects.toThrow(RetriesExhaustedError);
    await expect(doomed).rejects.toMatchObject({ attempts: 3, lastReason: 'ServiceUnavailable: injected' });
    await expect(fine).resolves.toMatchObject({ attempts: 1 });
    expect(sender.stats).toMatchObject({
      sent: 1,
      failed: 1,
      retries: 2,
      failedByReason: { RETRIES_EXHAUSTED: 1 },
    });
    await sender.close();
  });

  it('retries whole requests answered with 503 or throttling, through a real proxy', async () => {
    // Prepare
    const proxy = await startFaultProxy((n) =>
      n <= 2
        ? { respond: 503, error: 'ServiceUnavailable' }
        : n === 3
          ? { respond: 400, error: 'RequestThrottled' }
          : undefined,
    );
    cleanup.push(() => proxy.close());
    const queueUrl = await createQueue(client(), 'request-retry');
    const sender = new SqsBatchSender({ queueUrl, client: client(proxy.url), ...fast });
    // Act
    const receipts = await Promise.all(bodies(10).map((body) => sender.send({ body })));
    // Assess
    expect(receipts.map((r) => r.attempts)).toEqual(new Array(10).fill(4));
    expect(sender.stats).toMatchObject({
      sent: 10,
      requests: 4,
      requestErrors: { server: 2, throttle: 1, network: 0 },
    });
    expect((await receiveAll(client(), queueUrl)).map((m) => m.Body).sort()).toEqual(bodies(10).sort());
    await sender.close();
  });

  it('retries after the connection was reset', async () => {
    const proxy = await startFaultProxy((n) => (n === 1 ? { reset: true } : undefined));
    cleanup.push(() => proxy.close());
    const queueUrl = await createQueue(client(), 'reset');
    const sender = new SqsBatchSender({ queueUrl, client: client(proxy.url), ...fast });
    await expect(sender.send({ body: 'after reset' })).resolves.toMatchObject({ attempts: 2 });
    expect(sender.stats.requestErrors.network).toBe(1);
    await sender.close();
  });

  it('reports every message as failed, with the reason, when SQS stays unavailable', async () => {
    // Prepare
    const proxy = await startFaultProxy(() => ({ respond: 503, error: 'ServiceUnavailable' }));
    cleanup.push(() => proxy.close());
    const queueUrl = await createQueue(client(), 'down');
    const sender = new SqsBatchSender({ queueUrl, client: client(proxy.url), maxAttempts: 4, ...fast });
    // Act
    const results = await Promise.allSettled(bodies(3).map((body) => sender.send({ body })));
    // Assess
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: 'RETRIES_EXHAUSTED',
        attempts: 4,
        lastReason: expect.stringContaining('ServiceUnavailable'),
      });
    }
    expect(proxy.requests).toBe(4);
    await sender.close();
  });
});
