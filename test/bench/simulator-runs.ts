/**
 * Measured runs for the simulator's calibration and validation: a producer sends a synthetic
 * workload at a fixed rate to a fresh queue; the project's event-source poller feeds the real
 * batch-writer handler (middy chain, WriteBatcher) writing to a fresh DynamoDB Local table. Each
 * record's latency is the time its handler call completed minus its SQS `SentTimestamp`.
 */

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createBatchWriterHandler } from '../../functions/batch-writer/wiring.ts';
import { generateWorkload, type KeyDistribution } from '../../shared/cli/send/workload.ts';
import { createLambdaContext } from '../../shared/local/lambda/lambda-context.ts';
import { SqsEventSourcePoller } from '../../shared/local/lambda/poller.ts';
import { toSqsRecord } from '../../shared/local/lambda/sqs-event.ts';
import { createQueue, createTable } from '../../shared/local/resources/write-path.ts';
import { parseSampleLine, type SampleRecord } from '../../shared/pipeline/capacity/sample.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import { percentile } from './context.ts';

export interface RunSpec {
  readonly name: string;
  readonly messages: number;
  readonly ratePerSec: number;
  readonly keys: number;
  readonly keyDistribution: KeyDistribution;
  readonly versions?: boolean;
  readonly batchSize: number;
  readonly windowMs: number;
  /** Poller workers (the event source's maximum concurrency). */
  readonly concurrency: number;
  /** The batch writer's MAX_CONCURRENCY. */
  readonly writeConcurrency: number;
}

export interface Invocation {
  /** When the handler was called, ms (performance.now). */
  readonly startMs: number;
  readonly records: number;
  readonly unique: number;
  readonly durationMs: number;
}

export interface Measured {
  /** Messages sent per second, as achieved by the producer. */
  readonly sentPerSec: number;
  readonly sendSeconds: number;
  /** Records handled per second, first SentTimestamp to the last handler completion. */
  readonly throughputPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly invocations: readonly Invocation[];
  /** The messages sent, as a sample for the simulator's workload model. */
  readonly sample: readonly SampleRecord[];
}

const names = { table: 'pk', sort: 'sk' } as const;

/** A fresh table, DLQ and batch-writer handler (the real middy chain) writing to that table. */
async function freshHandler(writeConcurrency: number) {
  const ddb = new DynamoDBClient({ maxAttempts: 3 });
  const sqs = new SQSClient({});
  const suffix = randomUUID().slice(0, 8);
  const tableName = `sim-${suffix}`;
  await createTable(ddb, { tableName, partitionKey: names.table, sortKey: names.sort });
  const dlq = await createQueue(sqs, { queueName: `sim-dlq-${suffix}` });
  const handler = createBatchWriterHandler(
    {
      routes: {
        items: { tableName, partitionKey: 'pk', sortKey: 'sk', keyType: 'S', ops: ['put', 'delete'] },
      },
      dlqUrl: dlq.url,
      maxConcurrency: writeConcurrency,
      deadlineMarginMs: writePathSettings.function.deadlineMarginMs,
    },
    {
      logger: new Logger({ serviceName: 'batch-writer' }),
      metrics: new Metrics({ serviceName: 'batch-writer' }),
    },
  );
  return { sqs, suffix, handler };
}

export async function measureRun(spec: RunSpec): Promise<Measured> {
  const { sqs, suffix, handler } = await freshHandler(spec.writeConcurrency);
  const queue = await createQueue(sqs, { queueName: `sim-${suffix}`, visibilityTimeoutSeconds: 360 });
  const latencies: number[] = [];
  const invocations: { startMs: number; records: SQSEvent['Records']; durationMs: number }[] = [];
  let firstSent = Number.POSITIVE_INFINITY;
  let lastDone = 0;
  const poller = new SqsEventSourcePoller({
    sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    batchSize: spec.batchSize,
    maxBatchingWindowMs: spec.windowMs,
    maxConcurrency: spec.concurrency,
    handler: async (event, context) => {
      const started = performance.now();
      const response = await handler(event, context);
      const done = Date.now();
      invocations.push({ startMs: started, records: event.Records, durationMs: performance.now() - started });
      for (const record of event.Records) {
        const sent = Number(record.attributes.SentTimestamp);
        latencies.push(done - sent);
        if (sent < firstSent) firstSent = sent;
      }
      lastDone = Math.max(lastDone, done);
      return response;
    },
    onError: (error) => console.error('[simulator bench]', error),
  });
  await poller.start();
  const bodies = workloadBodies(spec.messages, spec.keys, spec.keyDistribution, spec.versions === true, 7);
  const sendStarted = Date.now();
  await sendPaced(sqs, queue.url, bodies, spec.ratePerSec);
  const sendSeconds = (Date.now() - sendStarted) / 1000;
  const deadline = Date.now() + 60_000;
  while (latencies.length < spec.messages && Date.now() < deadline) await sleep(50);
  await poller.stop();
  if (latencies.length < spec.messages)
    throw new Error(`${spec.name}: only ${latencies.length} of ${spec.messages} records handled in time`);
  latencies.sort((a, b) => a - b);
  return {
    sentPerSec: spec.messages / sendSeconds,
    sendSeconds,
    throughputPerSec: latencies.length / ((lastDone - firstSent) / 1000),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    invocations: invocations.map((inv) => ({
      startMs: inv.startMs,
      records: inv.records.length,
      unique: new Set(inv.records.map((r) => uniqueKey(r.body))).size,
      durationMs: inv.durationMs,
    })),
    sample: bodies.map((body, i) => parseSampleLine(body, i + 1)),
  };
}

/** Sends `bodies` in batches of 10, paced to `ratePerSec`, up to 4 requests in flight. */
async function sendPaced(sqs: SQSClient, queueUrl: string, bodies: readonly string[], ratePerSec: number) {
  const started = performance.now();
  let next = 0;
  const sender = async () => {
    while (next < bodies.length) {
      const due = started + (next / ratePerSec) * 1000;
      const wait = due - performance.now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      const from = next;
      next += 10;
      const entries = bodies.slice(from, from + 10).map((MessageBody, i) => ({ Id: String(i), MessageBody }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    }
  };
  await Promise.all([sender(), sender(), sender(), sender()]);
}

function uniqueKey(body: string): string {
  const item = (JSON.parse(body) as { item?: { pk?: string; sk?: string } }).item ?? {};
  return `${item.pk}\u0000${item.sk}`;
}

/**
 * Messages one gathering poller receives per second when `pollers` gather at once from a full
 * queue (4 parallel ReceiveMessage calls of 10 each, as the local poller does), and how long the
 * DeleteMessageBatch of 10 that follows takes.
 */
export async function receiveRate(pollers: number): Promise<{ perPollerPerSec: number; deleteMs: number }> {
  const sqs = new SQSClient({});
  const queue = await createQueue(sqs, { queueName: `sim-probe-${randomUUID().slice(0, 8)}` });
  const total = 6_000;
  const entries = (from: number) =>
    Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: `{"n":${from + i}}` }));
  for (let i = 0; i < total; i += 100)
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        sqs.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries(i + j * 10) })),
      ),
    );
  let received = 0;
  let receiveMs = 0;
  const deletes: number[] = [];
  const poller = async () => {
    while (received < total * 0.8) {
      const started = performance.now();
      const rounds = await Promise.all(
        Array.from({ length: 4 }, () =>
          sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
          ),
        ),
      );
      receiveMs += performance.now() - started;
      const messages = rounds.flatMap((r) => r.Messages ?? []);
      received += messages.length;
      const deleteStarted = performance.now();
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: messages.slice(0, 10).map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      deletes.push(performance.now() - deleteStarted);
    }
  };
  await Promise.all(Array.from({ length: pollers }, poller));
  deletes.sort((a, b) => a - b);
  return {
    perPollerPerSec: received / (receiveMs / 1000),
    deleteMs: deletes[Math.floor(deletes.length / 2)]!,
  };
}

function workloadBodies(
  count: number,
  keys: number,
  keyDistribution: KeyDistribution,
  versions: boolean,
  seed: number,
): string[] {
  const options = {
    count,
    keys,
    keyDistribution,
    itemBytes: 200,
    versions,
    shuffleVersions: false,
    invalidRate: 0,
    seed,
  };
  return [...generateWorkload(options)].map((m) => (m.valid ? JSON.stringify(m.message) : m.body));
}

export interface ProbeInvocation {
  readonly records: number;
  readonly guarded: boolean;
  readonly durationMs: number;
}

export interface HandlerProbe {
  readonly invocations: readonly ProbeInvocation[];
}

/**
 * The batch-writer handler invoked directly (no SQS) on batches of unique keys of several sizes,
 * plain and versioned (transactions), one at a time: about 1–3 s, so it can run right before each
 * measured run and see the machine's load of that moment.
 */
export async function probeHandler(writeConcurrency: number, warmups = 2): Promise<HandlerProbe> {
  const { handler } = await freshHandler(writeConcurrency);
  let seed = 100;
  const source = { queueArn: 'arn:aws:sqs:us-east-1:123456789012:probe', region: 'us-east-1' };
  const batch = (size: number, versions: boolean) =>
    workloadBodies(size, size * 1000, { kind: 'uniform' }, versions, seed++).map((Body, i) =>
      toSqsRecord(
        { MessageId: `m${seed}-${i}`, ReceiptHandle: `r${i}`, Body, Attributes: { SentTimestamp: '0' } },
        source,
      ),
    );
  const context = () =>
    createLambdaContext({ functionName: 'batch-writer', timeoutMs: 60_000, region: 'us-east-1' });
  const time = async (records: SQSEvent['Records']) => {
    const started = performance.now();
    await handler({ Records: records }, context());
    return performance.now() - started;
  };
  // DynamoDB Local's JIT and the handler's modules warm up first.
  for (let i = 0; i < warmups; i++) await time(batch(400, i % 2 === 1));
  const invocations: ProbeInvocation[] = [];
  for (let rep = 0; rep < 2; rep++) {
    for (const size of [10, 25, 100, 400])
      invocations.push({ records: size, guarded: false, durationMs: await time(batch(size, false)) });
    for (const size of [100, 300])
      invocations.push({ records: size, guarded: true, durationMs: await time(batch(size, true)) });
  }
  return { invocations };
}
