import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../../../shared/core/options.ts';
import { SqsEventSourcePoller } from '../../../../../shared/local/lambda/poller.ts';
import { writePathSettings } from '../../../../../shared/pipeline/settings.ts';

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
    ['batchSize', { batchSize: 0 }, 0, 'an integer from 1 to 10000'],
    ['maxConcurrency', { maxConcurrency: 1.5e3 }, 1500, 'an integer from 1 to 1000'],
    ['timeoutMs', { timeoutMs: Number.NaN }, Number.NaN, 'a number from 1 to 900000'],
    ['maxBatchingWindowMs', { maxBatchingWindowMs: -1 }, -1, 'a number from 0 to 300000'],
    ['idleWaitSeconds', { idleWaitSeconds: 21 }, 21, 'an integer from 0 to 20'],
  ])('rejects an out-of-range %s with an InvalidOptionError naming it', (option, options, value, rule) => {
    // Act
    const create = () =>
      new SqsEventSourcePoller({ sqs, handler, queueUrl: 'http://localhost/1/q', ...options });
    // Assess
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', owner: 'SqsEventSourcePoller', option, value, rule }),
    );
    expect(create).toThrow(`SqsEventSourcePoller option ${option}: got ${String(value)}; use ${rule}`);
  });
});
