/**
 * `npm run local`: the write path on this machine. Starts DynamoDB Local and local-aws-sqs (or uses
 * AWS_ENDPOINT_URL, e.g. LocalStack), creates the table, the ingest queue and its DLQ, and feeds the
 * queue to the real batch-writer handler through the local event-source poller until Ctrl-C.
 *
 *   npm run local -- [--fifo] [--visibility-timeout <s>] [--max-receive-count <n>] [--stack-file <path>]
 */
import { parseArgs } from 'node:util';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createConfigChangeHandler } from '../../../functions/snapshot-publisher/wiring.ts';
import { writePathSettings } from '../../pipeline/settings.ts';
import { snapshotSettings } from '../../snapshots/index.ts';
import { endpointEnv, startEmbeddedAws } from '../aws/embedded.ts';
import { SqsEventSourcePoller } from '../lambda/poller.ts';
import { createSnapshotResources } from '../resources/snapshots.ts';
import { DEFAULT_STACK_FILE, writeStackFile } from '../resources/stack-file.ts';
import { startLocalWritePath } from '../write-path.ts';

const { values: args } = parseArgs({
  options: {
    fifo: { type: 'boolean', default: false },
    'visibility-timeout': { type: 'string' },
    'max-receive-count': { type: 'string' },
    'stack-file': { type: 'string', default: DEFAULT_STACK_FILE },
  },
});
const log = (line: string) => console.log(`[local] ${line}`);

const aws = await startEmbeddedAws({ log });
Object.assign(process.env, endpointEnv(aws.endpoints));
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
const visibilityTimeoutSeconds = optionalNumber(args['visibility-timeout']);
// Config snapshots: the batch writer follows the `pipeline` snapshot; the publisher applies changes
// sent to the config-changes queue (`pipeline snapshot …` and any SQS client can use them).
const snapshots = await createSnapshotResources({ dynamodb, sqs });
const { resources, poller, grantedTables, bootstrap } = await startLocalWritePath({
  dynamodb,
  sqs,
  fifo: args.fifo,
  visibilityTimeoutSeconds,
  maxReceiveCount: optionalNumber(args['max-receive-count']),
  // Lambda refuses a function timeout above the queue's visibility timeout; a shorter
  // --visibility-timeout (quick redelivery) shortens the local function timeout with it.
  ...(visibilityTimeoutSeconds === undefined
    ? {}
    : {
        poller: {
          timeoutMs: Math.min(writePathSettings.function.timeoutSeconds, visibilityTimeoutSeconds) * 1000,
        },
      }),
  snapshots: { tableName: snapshots.tableName },
  metrics: new Metrics({ serviceName: 'batch-writer', namespace: 'BatchWritePipelineLocal' }),
});
// The publisher gets what CDK gives the deployed one: the granted tables and the bootstrap document.
const publisherPoller = new SqsEventSourcePoller({
  sqs,
  queueUrl: snapshots.changesQueueUrl,
  queueArn: snapshots.changesQueueArn,
  batchSize: 10,
  timeoutMs: snapshotSettings.publisher.timeoutSeconds * 1000,
  handler: createConfigChangeHandler({
    tableName: snapshots.tableName,
    name: 'pipeline',
    dlqUrl: snapshots.changesDlqUrl,
    maxAttempts: 5,
    grantedTables,
    bootstrap,
  }),
});
await publisherPoller.start();

await writeStackFile(
  {
    region: aws.endpoints.region,
    endpoints: { dynamodb: aws.endpoints.dynamodb, sqs: aws.endpoints.sqs },
    queues: {
      ingest: { url: resources.queueUrl, dlqUrl: resources.dlqUrl },
      'config-changes': { url: snapshots.changesQueueUrl, dlqUrl: snapshots.changesDlqUrl },
    },
    tables: { items: resources.tableName, snapshots: snapshots.tableName },
    grantedTables: [...grantedTables],
  },
  args['stack-file'],
);

const cli = `aws --region ${aws.endpoints.region} --endpoint-url`;
const groupId = args.fifo ? ' --message-group-id g1' : '';
console.log(`
Local write path ready${aws.started ? '' : ` (on ${aws.endpoints.sqs})`}
  DynamoDB    ${aws.endpoints.dynamodb}   table ${resources.tableName}
  SQS         ${aws.endpoints.sqs}
  ingest      ${resources.queueUrl}
  DLQ         ${resources.dlqUrl}
  stack file  ${args['stack-file']}
  poller      batch ${poller.batchSize}, window ${poller.maxBatchingWindowMs} ms, concurrency ${poller.maxConcurrency}, timeout ${poller.timeoutMs / 1000} s

Try:
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local ${cli} ${aws.endpoints.sqs} sqs send-message \\
    --queue-url ${resources.queueUrl}${groupId} \\
    --message-body '{"op":"put","table":"items","item":{"pk":"a","sk":"1","n":1},"version":1}'
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local ${cli} ${aws.endpoints.dynamodb} dynamodb scan --table-name ${resources.tableName}

Ctrl-C stops everything.
`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  await Promise.all([poller.stop(), publisherPoller.stop()]);
  const { invocations, records, deleted, failed } = poller.stats;
  log(`poller: ${invocations} invocations, ${records} records, ${deleted} deleted, ${failed} failed`);
  // Emulators forget everything when they stop; an external endpoint keeps what we made unless we clean up.
  if (!aws.started) await Promise.all([resources.delete(), snapshots.delete()]);
  await aws.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

function optionalNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`expected a whole number, got "${value}"`);
  return number;
}
