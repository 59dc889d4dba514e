/**
 * Peak heap of one batch through the batch writer, measured: the batch's messages as an SQS event
 * go through the batch writer's own core (`processIngestBatch`: parse, route, plan, marshal, send)
 * with a DynamoDB client that answers every request at once, and the heap is read at every request,
 * when the event, the parsed messages and the marshalled writes are all alive. The figure is the
 * largest reading over the heap after a full garbage collection before the run.
 */

import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { processIngestBatch } from '../../../functions/batch-writer/core.ts';
import type { SampleWrite } from '../../pipeline/capacity/items.ts';
import type { DeadLetterSink } from '../../pipeline/dead-letter.ts';
import { Router, type RoutesConfig } from '../../pipeline/routing.ts';
import { WriteBatcher } from '../../write-batcher/index.ts';

/** Measures the batch's peak heap in bytes (an upper bound: garbage made during the run counts). */
export async function measureBatchHeap(
  batch: readonly SampleWrite[],
  routes: RoutesConfig,
  versionedWrites: 'transaction' | 'conditional-put',
): Promise<number> {
  const gc = collector();
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  // Answers every request as fully written: nothing is sent anywhere.
  const client = {
    send: async () => {
      sample();
      return {};
    },
    destroy: () => {},
  } as unknown as DynamoDBClient;
  const deadLetters: DeadLetterSink = { send: async (letters) => letters.map(() => true) };
  const router = new Router(routes, { random: () => 0 });
  const batcher = new WriteBatcher({ client, versionedWrites, adaptiveConcurrency: false });
  gc();
  const baseline = process.memoryUsage().heapUsed;
  const records = batch.map((w) => sqsRecord(JSON.stringify(w.message)));
  sample();
  await processIngestBatch(records, { router, batcher, deadLetters, deadline: { at: Date.now() + 60_000 } });
  return Math.max(0, peak - baseline);
}

/** A Lambda SQS record as the event source delivers it (ids and attributes of their real sizes). */
function sqsRecord(body: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${'x'.repeat(180)}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'AIDAEXAMPLEEXAMPLE',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '0'.repeat(32),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:ingest',
    awsRegion: 'us-east-1',
  };
}

/** `gc()`, exposed at run time when the process was started without `--expose-gc`. */
function collector(): () => void {
  const global = globalThis as { gc?: () => void };
  if (typeof global.gc === 'function') return global.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
