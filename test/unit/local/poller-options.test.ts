import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsEventSourcePoller } from '../../../shared/local/lambda/poller.ts';
import { writePathSettings } from '../../../shared/pipeline/settings.ts';

// The constructor only resolves options; nothing here talks to SQS.
const sqs = new SQSClient({ region: 'us-east-1' });
const handler = async () => {};

describe('SqsEventSourcePoller options', () => {
  it('defaults to the event-source settings the CDK construct deploys', () => {
    // Act
    const poller = new SqsEventSourcePoller({ sqs, handler, queueUrl: 'http://localhost/1/ingest' });
    // Assess
    expect(poller).toMatchObject({
      batchSize: writePathSettings.eventSource.batchSize,
      maxBatchingWindowMs: writePathSettings.eventSource.maxBatchingWindowSeconds * 1000,
      maxConcurrency: writePathSettings.eventSource.maxConcurrency,
      timeoutMs: writePathSettings.function.timeoutSeconds * 1000,
      fifo: false,
    });
  });

  it('runs a FIFO queue one batch of at most 10 at a time, without a batching window', () => {
    // Act
    const poller = new SqsEventSourcePoller({
      sqs,
      handler,
      queueUrl: 'http://localhost/1/ingest.fifo',
      batchSize: 100,
      maxConcurrency: 5,
    });
    // Assess
    expect(poller).toMatchObject({ fifo: true, batchSize: 10, maxBatchingWindowMs: 0, maxConcurrency: 1 });
  });

  it.each([
    ['batchSize', { batchSize: 0 }, /batchSize is 0; expected a number from 1 to 10000/],
    ['maxConcurrency', { maxConcurrency: 1.5e3 }, /maxConcurrency is 1500/],
    ['timeoutMs', { timeoutMs: Number.NaN }, /timeoutMs is NaN/],
    ['maxBatchingWindowMs', { maxBatchingWindowMs: -1 }, /maxBatchingWindowMs is -1/],
  ])('rejects an out-of-range %s', (_, options, message) => {
    // Act
    const create = () =>
      new SqsEventSourcePoller({ sqs, handler, queueUrl: 'http://localhost/1/q', ...options });
    // Assess
    expect(create).toThrow(message);
  });
});
