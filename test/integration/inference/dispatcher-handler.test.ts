import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsEventSourcePoller } from '../../../shared/local/lambda/poller.ts';
import { inferenceSettings } from '../../../shared/pipeline/inference/settings.ts';
import { parseWorkMessage } from '../../../shared/pipeline/inference/work-message.ts';
import { SqsBatchSender } from '../../../shared/sqs/batch-sender.ts';
import { type InferenceFixture, inferenceFixture, jobRecords, requestBody } from './support.ts';

// The deployed handler (middy, Powertools) reads its environment at import, as on Lambda.
let fixture: InferenceFixture;
let poller: SqsEventSourcePoller;

beforeAll(async () => {
  fixture = await inferenceFixture();
  Object.assign(process.env, {
    JOBS_TABLE: fixture.resources.jobsTable,
    WORK_QUEUE_URL: fixture.resources.workQueueUrl,
    DLQ_URL: fixture.resources.requestsDlqUrl,
    MAX_JOBS_PER_MESSAGE: '4',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const { handler } = await import('../../../functions/inference-dispatcher/handler.ts');
  poller = new SqsEventSourcePoller({
    sqs: fixture.sqs,
    queueUrl: fixture.resources.requestsQueueUrl,
    queueArn: fixture.resources.requestsQueueArn,
    handler,
    batchSize: 100,
    maxBatchingWindowMs: 300,
    maxConcurrency: 1,
    functionName: 'inference-dispatcher',
    timeoutMs: inferenceSettings.dispatcher.timeoutSeconds * 1000,
    onError: () => undefined,
  });
  await poller.start();
});

afterAll(async () => {
  await poller?.stop();
  await fixture?.close();
});

describe('inference dispatcher handler (middy) behind the local event source', () => {
  it('records QUEUED jobs and packs them into gpu-work messages of at most MAX_JOBS_PER_MESSAGE', async () => {
    // Prepare
    const sender = new SqsBatchSender({ queueUrl: fixture.resources.requestsQueueUrl, client: fixture.sqs });
    const ids = Array.from({ length: 10 }, (_, i) => `h-${i}`);
    // Act
    await Promise.all(ids.map((id, i) => sender.send({ body: requestBody(id, i) })));
    await sender.close();
    await poller.drain({ timeoutMs: 30_000 });
    const records = await jobRecords(fixture);
    const received = await fixture.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: fixture.resources.workQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    // Assess
    expect(ids.map((id) => records.get(id)?.status)).toEqual(ids.map(() => 'QUEUED'));
    const jobs = (received.Messages ?? []).map((m) => parseWorkMessage(m.MessageId!, m.Body!).jobs);
    expect(
      jobs
        .flat()
        .map((j) => j.jobId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(Math.max(...jobs.map((j) => j.length))).toBeLessThanOrEqual(4);
    expect(poller.stats).toMatchObject({ failed: 0, failedInvocations: 0 });
  });
});
