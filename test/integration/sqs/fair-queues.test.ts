import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processIngestBatch } from '../../../functions/batch-writer/core.ts';
import { runCli } from '../../../shared/cli/pipeline.ts';
import type { SendSummary } from '../../../shared/cli/send/summary.ts';
import { toSqsRecord } from '../../../shared/local/lambda/sqs-event.ts';
import type { DeadLetter, DeadLetterSink } from '../../../shared/pipeline/dead-letter.ts';
import { Router } from '../../../shared/pipeline/routing.ts';
import { InvalidTenantError, PipelineProducer } from '../../../shared/sqs/producer.ts';
import { WriteBatcher } from '../../../shared/write-batcher/write-batcher.ts';
import { itemsRoutes, itemsTarget } from '../../support/factories/writes.ts';
import { awsError, InMemoryDynamoDb } from '../../support/fakes/in-memory-dynamodb.ts';
import { memoryIo } from '../../support/fakes/memory-io.ts';
import { createQueue, receiveAll, sqsClient } from './support.ts';

// SQS fair queues: on a standard queue a MessageGroupId tags the message's tenant and orders
// nothing. local-aws-sqs accepts it on standard queues (with SQS's own rule: 1 to 128 letters,
// digits and punctuation), stores it and hands it back as the MessageGroupId attribute.
let client: SQSClient;
beforeAll(() => {
  client = sqsClient();
});
afterAll(() => {
  client.destroy();
});

const tenantOfItem = (m: { op: string; item?: Record<string, unknown> }) =>
  m.op === 'put' ? (m.item?.tenant as string | undefined) : undefined;

describe('fair queues: tenants on a standard queue', () => {
  it('sends each message with its tenant as MessageGroupId, no FIFO ids, requests in parallel', async () => {
    // Prepare: 60 puts over two tenants, 3 entries a request, 8 requests in flight.
    const queueUrl = await createQueue(client, 'fair-tenants');
    const producer = new PipelineProducer({
      queueUrl,
      client,
      maxInFlight: 8,
      maxBatchEntries: 3,
      tenant: tenantOfItem,
    });
    // Act
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        producer.put({ pk: `k${i}`, sk: '1', tenant: i % 4 === 0 ? 'quiet' : 'noisy#1' }),
      ),
    );
    await producer.close();
    // Assess
    const received = await receiveAll(client, queueUrl);
    expect(received).toHaveLength(60);
    for (const message of received) {
      const body = JSON.parse(message.Body!) as { item: { tenant: string } };
      expect(message.Attributes?.MessageGroupId).toBe(body.item.tenant);
      expect(message.Attributes?.MessageDeduplicationId).toBeUndefined();
      expect(message.Attributes?.SequenceNumber).toBeUndefined();
    }
    // One tenant's messages are not held to one request at a time, as a FIFO group's would be.
    expect(producer.stats.peakInFlight).toBeGreaterThan(1);
  });

  it('refuses a message whose tenant SQS would refuse, sending the rest of its batch', async () => {
    const queueUrl = await createQueue(client, 'fair-bad-tenant');
    const producer = new PipelineProducer({ queueUrl, client, tenant: tenantOfItem });
    const results = await Promise.allSettled([
      producer.put({ pk: 'a', sk: '1', tenant: 'acme' }),
      producer.put({ pk: 'b', sk: '1', tenant: 'acme corp' }),
      producer.put({ pk: 'c', sk: '1', tenant: 'globex' }),
    ]);
    await producer.close();
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidTenantError);
    expect(producer.stats).toMatchObject({ sent: 2, failed: 1, failedByReason: { INVALID_TENANT: 1 } });
    const groups = (await receiveAll(client, queueUrl)).map((m) => m.Attributes?.MessageGroupId).sort();
    expect(groups).toEqual(['acme', 'globex']);
  });

  it('pipeline send --tenant-key tags every message with that item attribute', async () => {
    // Prepare
    const queueUrl = await createQueue(client, 'fair-cli');
    const dir = await mkdtemp(join(tmpdir(), 'fair-cli-'));
    const io = memoryIo({ cwd: dir });
    // Act
    const code = await runCli(
      ['send', '--queue-url', queueUrl, '--count', '40', '--keys', '5', '--tenant-key', 'pk', '--json'],
      io,
    );
    await rm(dir, { recursive: true, force: true });
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(io.out()) as SendSummary).toMatchObject({ sent: 40, failed: 0 });
    const received = await receiveAll(client, queueUrl);
    expect(received).toHaveLength(40);
    for (const message of received) {
      expect(message.Attributes?.MessageGroupId).toBe(JSON.parse(message.Body!).item.pk);
    }
  });
});

class RecordingSink implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async send(letters: readonly DeadLetter[]): Promise<boolean[]> {
    this.letters.push(...letters);
    return letters.map(() => true);
  }
}

/** The records Lambda would hand the batch writer for these received messages. */
async function recordsOf(queueUrl: string, messages: readonly Message[]) {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const source = { queueArn: Attributes!.QueueArn!, region: 'us-east-1' };
  return messages.map((m) => toSqsRecord(m, source));
}

/** Sends `bad` (its write throttled for good), then `after`, both as tenant/group `t1`; runs the batch writer. */
async function writeAfterAFailure(fifo: boolean) {
  const queueUrl = await createQueue(client, fifo ? 'fair-vs-fifo' : 'fair-writer', { fifo });
  const producer = new PipelineProducer({ queueUrl, client, ...(fifo ? {} : { tenant: 't1' }) });
  const ids = (n: number) => (fifo ? { groupId: 't1', dedupId: `m${n}` } : {});
  // Versioned: a PutItem of its own, so that only its write is throttled.
  await producer.put({ pk: 'bad', sk: '1' }, { version: 1, ...ids(1) });
  await producer.put({ pk: 'after', sk: '1' }, ids(2));
  await producer.close();
  const records = await recordsOf(queueUrl, await receiveAll(client, queueUrl));
  const db = new InMemoryDynamoDb();
  db.fault = (command) =>
    JSON.stringify(command.input).includes('"S":"bad"') ? awsError('ThrottlingException') : undefined;
  const result = await processIngestBatch(records, {
    router: new Router(itemsRoutes),
    batcher: new WriteBatcher({ client: db.client, baseDelayMs: 1, maxDelayMs: 2 }),
    deadLetters: new RecordingSink(),
    deadline: { at: Date.now() + 50 },
  });
  const failed = result.batchItemFailures.map((f) => records.find((r) => r.messageId === f.itemIdentifier));
  return { records, failed, db };
}

describe('the batch writer on records from a fair queue', () => {
  it('gives a tenant no FIFO ordering: a failed write holds back no later message of its tenant', async () => {
    // Act
    const { records, failed, db } = await writeAfterAFailure(false);
    // Assess: Lambda's records carry the tenant, yet only the failed message is retried.
    expect(records.map((r) => r.attributes.MessageGroupId)).toEqual(['t1', 't1']);
    expect(failed.map((r) => JSON.parse(r!.body).item.pk)).toEqual(['bad']);
    expect(db.item(itemsTarget.tableName, 'after')).toBeDefined();
  });

  it('still holds back the rest of a FIFO group after a failure', async () => {
    const { failed } = await writeAfterAFailure(true);
    expect(failed.map((r) => JSON.parse(r!.body).item.pk).sort()).toEqual(['after', 'bad']);
  });
});
