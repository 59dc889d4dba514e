/**
 * The write path demo on the local cloud: a workload through the producer to the IngestQueueUrl
 * output (duplicates, out-of-order versions, deletes) plus a few invalid raw messages, then a
 * summary from what the deployed pipeline exposes — the batch writer's EMF metrics, the event
 * source's invocations, the DLQ and the table — and a check of the table's final state.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { writePathSettings } from '../../../pipeline/settings.ts';
import { PipelineProducer } from '../../../sqs/index.ts';
import { localClientConfig } from '../../aws/client-config.ts';
import type { DemoCloud } from '../lib/demo-cloud.ts';
import { queueDepth, sendBodies } from '../lib/queues.ts';
import { scanAll } from '../lib/tables.ts';

export interface WritePathDemoResult {
  readonly sent: number;
  /** Items in the table after the drain, tombstones included. */
  readonly items: number;
  readonly deadLettered: number;
  /** The table holds exactly what the workload implies (see `stateProblems`). */
  readonly stateOk: boolean;
}

/** Distinct `demo#<k>` keys the unversioned puts cycle through. */
const KEYS = 500;
const PUTS = 2_000;
/** Versions of each `ver#<k>` item, in the order they are sent. */
const VERSIONS = [3, 1, 6, 2, 5, 4] as const;
const VERSIONED_KEYS = 100;
/** The first `TOMBSTONED` versioned keys are deleted with a version above every put. */
const TOMBSTONED = 50;
const DELETE_VERSION = 10;

/** Bodies the producer would refuse, sent around it on purpose: each ends in the DLQ. */
const INVALID_BODIES = [
  '{"op":"put",',
  JSON.stringify({ op: 'upsert', item: { pk: 'x', sk: '1' } }),
  JSON.stringify({ op: 'put', table: 'users', item: { pk: 'x', sk: '1' } }),
  JSON.stringify({ op: 'put', item: { pk: 'x', sk: '1' }, version: -3 }),
  JSON.stringify({ op: 'put', item: { pk: 'x' } }),
  JSON.stringify({ op: 'put', item: { pk: 'big', sk: '1', blob: 'x'.repeat(410 * 1024) } }),
];

export async function runWritePathDemo(
  demo: DemoCloud,
  log: (line: string) => void,
): Promise<WritePathDemoResult> {
  const { cloud } = demo;
  const { region } = cloud.endpoints;
  const queueUrl = cloud.output('WritePath', 'IngestQueueUrl');
  const dlqUrl = cloud.output('WritePath', 'DeadLetterQueueUrl');
  const tableName = cloud.output('WritePath', 'TableName');
  const sqs = new SQSClient(localClientConfig(cloud.endpoints.sqs, region));
  const dynamodb = new DynamoDBClient(localClientConfig(cloud.endpoints.dynamodb, region));
  const { functionName, poller } = demo.consumerOf(queueUrl);
  const metrics = demo.metricsOf(functionName);
  log(`table ${tableName}`);
  log(`ingest ${queueUrl}`);
  log(`dlq ${dlqUrl}`);

  try {
    const started = performance.now();
    const invocationsBefore = poller.stats.invocations;
    const producer = new PipelineProducer({ queueUrl, client: sqs });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < PUTS; i++) {
      sends.push(producer.put({ pk: `demo#${i % KEYS}`, sk: 'profile', seq: i, name: `user ${i % KEYS}` }));
    }
    for (const v of VERSIONS) {
      for (let k = 0; k < VERSIONED_KEYS; k++) {
        sends.push(producer.put({ pk: `ver#${k}`, sk: 'state', v }, { version: v }));
      }
    }
    for (let k = 0; k < TOMBSTONED; k++) {
      sends.push(producer.delete({ pk: `ver#${k}`, sk: 'state' }, { version: DELETE_VERSION }));
    }
    await Promise.all(sends);
    await producer.close();
    await sendBodies(sqs, queueUrl, INVALID_BODIES);
    const sent = sends.length + INVALID_BODIES.length;

    await cloud.drain(120_000);
    const seconds = (performance.now() - started) / 1000;
    const items = await scanAll(dynamodb, tableName);
    const deadLettered = await queueDepth(sqs, dlqUrl);
    const metric = (name: string) => metrics.get(name);
    const rows: Array<[string, string | number]> = [
      ['messages sent', sent],
      ['Lambda invocations', poller.stats.invocations - invocationsBefore],
      ['items written (DynamoDB writes)', metric('ItemsWritten')],
      ['coalesced (superseded in a batch)', metric('WritesCoalesced')],
      ['stale (version guard skipped)', metric('WritesStale')],
      ['rejected → DLQ', `${metric('MessagesDeadLettered')} (DLQ holds ${deadLettered})`],
      ['retryable failures', metric('MessagesFailed')],
      ['BatchWriteItem requests', metric('BatchWriteRequests')],
      ['conditional writes', metric('ConditionalWriteRequests')],
      ['items in table (incl. tombstones)', items.length],
      ['messages/s end to end', (sent / seconds).toFixed(0)],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    log('Summary');
    for (const [k, v] of rows) log(`  ${k.padEnd(width)}  ${v}`);

    const problems = stateProblems(items);
    if (deadLettered !== INVALID_BODIES.length) {
      problems.push(`the DLQ holds ${deadLettered} messages, expected ${INVALID_BODIES.length}`);
    }
    if (metric('MessagesDeadLettered') !== INVALID_BODIES.length) {
      problems.push(
        `MessagesDeadLettered is ${metric('MessagesDeadLettered')}, expected ${INVALID_BODIES.length}`,
      );
    }
    log(
      problems.length === 0
        ? `check: table state as the workload implies (${KEYS} profiles, ${VERSIONED_KEYS - TOMBSTONED} at version ${Math.max(...VERSIONS)}, ${TOMBSTONED} tombstones); ${INVALID_BODIES.length} dead-lettered`
        : `check FAILED: ${problems.join('; ')}`,
    );
    return { sent, items: items.length, deadLettered, stateOk: problems.length === 0 };
  } finally {
    sqs.destroy();
    dynamodb.destroy();
  }
}

/**
 * What differs between the table and the workload: every `demo#<k>` holds one of its own puts, every
 * `ver#<k>` the highest version (a tombstone for the deleted ones), and nothing else is there.
 */
export function stateProblems(items: readonly Record<string, unknown>[]): string[] {
  const { versionAttribute, deletedAttribute } = writePathSettings.table;
  const problems: string[] = [];
  const byPk = new Map(items.map((item) => [String(item.pk), item]));
  for (let k = 0; k < KEYS; k++) {
    const item = byPk.get(`demo#${k}`);
    if (item?.name !== `user ${k}` || Number(item.seq) % KEYS !== k)
      problems.push(`demo#${k} is ${describe(item)}`);
  }
  for (let k = 0; k < VERSIONED_KEYS; k++) {
    const item = byPk.get(`ver#${k}`);
    const ok =
      k < TOMBSTONED
        ? item?.[deletedAttribute] === true && item[versionAttribute] === DELETE_VERSION
        : item?.v === Math.max(...VERSIONS) &&
          item[versionAttribute] === Math.max(...VERSIONS) &&
          item[deletedAttribute] === undefined;
    if (!ok) problems.push(`ver#${k} is ${describe(item)}`);
  }
  const expected = KEYS + VERSIONED_KEYS;
  if (items.length !== expected) problems.push(`the table holds ${items.length} items, expected ${expected}`);
  // Many wrong items would flood the line: the first few say enough.
  return problems.length > 5 ? [...problems.slice(0, 5), `… ${problems.length - 5} more`] : problems;
}

function describe(item: Record<string, unknown> | undefined): string {
  return item === undefined ? 'missing' : JSON.stringify(item);
}
