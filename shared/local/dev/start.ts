/**
 * `npm start`: the main job on the embedded AWS stack. Creates the write path's resources, runs the
 * local event-source poller with the real batch-writer handler, sends a demo workload through the
 * producer (duplicates, out-of-order versions, deletes and a few invalid messages), waits for the
 * queue to drain, prints a summary and exits 0.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { pipelineConfigParser } from '../../pipeline/config.ts';
import { createSnapshotTable, DynamoDbSnapshotStore, SnapshotPublisher } from '../../snapshots/index.ts';
import { PipelineProducer, SqsBatchSender } from '../../sqs/index.ts';
import { endpointEnv, startEmbeddedAws } from '../aws/embedded.ts';
import { startLocalWritePath } from '../write-path.ts';
import { runInferenceDemo } from './demo/inference.ts';
import { runSnapshotsDemo } from './demo/snapshots.ts';
import { captureEmf } from './lib/emf.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);

await using aws = await startEmbeddedAws({ log });
Object.assign(process.env, endpointEnv(aws.endpoints), {
  POWERTOOLS_METRICS_NAMESPACE: 'BatchWritePipeline',
  POWERTOOLS_SERVICE_NAME: 'batch-writer',
});
const sqs = new SQSClient({});
const dynamodb = new DynamoDBClient({});
const snapshotsTable = `snapshots-${randomUUID().slice(0, 8)}`;
await createSnapshotTable(dynamodb, snapshotsTable);
const emf = captureEmf();
const { resources, poller, grantedTables } = await startLocalWritePath({
  dynamodb,
  sqs,
  visibilityTimeoutSeconds: 10,
  // The batch writer follows the `pipeline` config snapshot; its environment is the bootstrap.
  snapshots: { tableName: snapshotsTable, maxAgeMs: 500 },
  // Within the 10 s visibility timeout, as Lambda requires.
  poller: { maxConcurrency: 4, timeoutMs: 10_000 },
});
log(`table ${resources.tableName}\ningest ${resources.queueUrl}\ndlq ${resources.dlqUrl}`);

// Demo workload.
const started = performance.now();
const producer = new PipelineProducer({ queueUrl: resources.queueUrl, routes: resources.routes });
const sends: Promise<unknown>[] = [];
let sent = 0;
for (let i = 0; i < 2_000; i++) {
  sends.push(producer.put({ pk: `demo#${i % 500}`, sk: 'profile', seq: i, name: `user ${i % 500}` }));
}
const versions = [3, 1, 6, 2, 5, 4];
for (const v of versions) {
  for (let k = 0; k < 100; k++) sends.push(producer.put({ pk: `ver#${k}`, sk: 'state', v }, { version: v }));
}
for (let k = 0; k < 50; k++) sends.push(producer.delete({ pk: `ver#${k}`, sk: 'state' }, { version: 10 }));
await Promise.all(sends);
sent += sends.length;
await producer.close();

// Invalid messages go around the producer's validation on purpose, to show the DLQ path.
const raw = new SqsBatchSender({ queueUrl: resources.queueUrl });
const invalid = [
  '{"op":"put",',
  JSON.stringify({ op: 'upsert', item: { pk: 'x', sk: '1' } }),
  JSON.stringify({ op: 'put', table: 'users', item: { pk: 'x', sk: '1' } }),
  JSON.stringify({ op: 'put', item: { pk: 'x', sk: '1' }, version: -3 }),
  JSON.stringify({ op: 'put', item: { pk: 'x' } }),
  JSON.stringify({ op: 'put', item: { pk: 'big', sk: '1', blob: 'x'.repeat(410 * 1024) } }),
];
await Promise.all(invalid.map((body) => raw.send({ body })));
sent += invalid.length;
await raw.close();

await poller.drain({ timeoutMs: 120_000 });
const seconds = (performance.now() - started) / 1000;

const scan = await dynamodb.send(
  new ScanCommand({ TableName: resources.tableName, Select: 'COUNT', ConsistentRead: true }),
);
const dlq = await sqs.send(
  new GetQueueAttributesCommand({
    QueueUrl: resources.dlqUrl,
    AttributeNames: ['ApproximateNumberOfMessages'],
  }),
);
const metric = (name: string) => emf.totals.get(name) ?? 0;
const rows: Array<[string, string | number]> = [
  ['messages sent', sent],
  ['Lambda invocations', poller.stats.invocations],
  ['items written (DynamoDB writes)', metric('ItemsWritten')],
  ['coalesced (superseded in a batch)', metric('WritesCoalesced')],
  ['stale (version guard skipped)', metric('WritesStale')],
  [
    'rejected → DLQ',
    `${metric('MessagesDeadLettered')} (DLQ holds ${dlq.Attributes?.ApproximateNumberOfMessages})`,
  ],
  ['retryable failures', metric('MessagesFailed')],
  ['BatchWriteItem requests', metric('BatchWriteRequests')],
  ['conditional writes', metric('ConditionalWriteRequests')],
  ['items in table (incl. tombstones)', scan.Count ?? 0],
  ['messages/s end to end', (sent / seconds).toFixed(0)],
];
const width = Math.max(...rows.map(([k]) => k.length));
log('\nSummary');
for (const [k, v] of rows) log(`  ${k.padEnd(width)}  ${v}`);

// Config snapshots: publish, coalesce changes from the config-changes queue, canary, rollback.
log('\nConfig snapshots');
const demo = await runSnapshotsDemo({
  log: (line) => log(`  ${line}`),
  routes: resources.routes,
  grantedTables,
  snapshotsTable,
});
// The snapshot demo ends with `audit` removed from the routing. Route it again and watch the running
// batch writer pick the change up on its next refresh.
const publisher = new SnapshotPublisher({
  store: new DynamoDbSnapshotStore({ client: dynamodb, tableName: snapshotsTable }),
  validate: pipelineConfigParser(grantedTables),
});
await publisher.update('pipeline', (current) => {
  const config = current?.data as { routing: Record<string, unknown> };
  return { ...config, routing: { ...config.routing, audit: resources.routes.items } };
});
await new Promise((resolve) => setTimeout(resolve, 600));
const auditProducer = new PipelineProducer({ queueUrl: resources.queueUrl });
await auditProducer.put({ pk: 'audit#1', sk: 'entry', note: 'routed by snapshot' }, { table: 'audit' });
await auditProducer.close();
await poller.drain({ timeoutMs: 60_000 });
await poller.stop();
const audit = await dynamodb.send(
  new GetItemCommand({ TableName: resources.tableName, Key: { pk: { S: 'audit#1' }, sk: { S: 'entry' } } }),
);
log(
  `  snapshot demo ended on stable version ${demo.stableVersion}; canary share ${(demo.canaryShare * 100).toFixed(1)}%; invalid change → DLQ ${demo.deadLetteredCodes.join(', ')}`,
);
log(`  batch writer after routing \`audit\` again: audit message ${audit.Item ? 'written' : 'NOT written'}`);
if (!audit.Item) process.exitCode = 1;
emf.restore();

// GPU inference on CPU: dispatcher → gpu-work queue → one local worker process → jobs table.
log('\nGPU inference (CPU here)');
const inference = await runInferenceDemo({ log: (line) => log(`  ${line}`) });
if (!inference.matchesReference) process.exitCode = 1;
