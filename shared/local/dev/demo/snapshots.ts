/**
 * The config snapshot demo on the embedded AWS stack: publishes the pipeline's configuration,
 * changes its routing through the config-changes queue (the real publisher function, run by the
 * local event-source poller), shows a reader — as the batch writer holds one — adopt the change,
 * then stages a canary and rolls back. `npm start` calls `runSnapshotsDemo`;
 * `npx tsx shared/local/dev/demo/snapshots.ts` runs it alone.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createConfigChangeHandler } from '../../../../functions/snapshot-publisher/wiring.ts';
import { PipelineError } from '../../../core/errors.ts';
import {
  PIPELINE_CONFIG_SCHEMA_VERSION,
  type PipelineConfig,
  pipelineConfigParser,
  routerFor,
} from '../../../pipeline/config.ts';
import type { RoutesConfig } from '../../../pipeline/routing.ts';
import {
  createSnapshotReader,
  DynamoDbSnapshotStore,
  SnapshotPublisher,
  snapshotSettings,
} from '../../../snapshots/index.ts';
import { endpointEnv, startEmbeddedAws } from '../../aws/embedded.ts';
import { SqsEventSourcePoller } from '../../lambda/poller.ts';
import { createSnapshotResources } from '../../resources/snapshots.ts';

export interface SnapshotsDemoOptions {
  readonly log: (line: string) => void;
  /**
   * The write path's routing (the batch writer's bootstrap routes). Version 1 publishes it with an
   * extra logical table `audit` on the first route's table; the routing change removes `audit`.
   */
  readonly routes: RoutesConfig;
  /** Tables a route may name (`GRANTED_TABLES`). @default the tables of `routes` */
  readonly grantedTables?: readonly string[];
  /** The snapshots table (e.g. the one the batch writer reads); created when missing. @default a new one */
  readonly snapshotsTable?: string;
  /** @default snapshotSettings.defaultName ('pipeline') */
  readonly name?: string;
}

export interface SnapshotsDemoResult {
  readonly snapshotsTable: string;
  /** Generation and stable version of the pointer at the end. */
  readonly generation: number;
  readonly stableVersion: number;
  /** `audit` was routed by version 1 and is refused once the reader adopted the change. */
  readonly auditRoutedBefore: boolean;
  readonly auditRoutedAfter: boolean;
  /** The invalid config change that went to the config-changes DLQ, with its ErrorCode. */
  readonly deadLetteredCodes: readonly string[];
  /** Share of 1,000 callers the 25% canary selected. */
  readonly canaryShare: number;
  readonly elapsedMs: number;
}

/**
 * Runs the demo against the AWS endpoints in `process.env` (the embedded stack `npm start` has
 * started). Creates its own queues (and table, unless `snapshotsTable` is given) and deletes them.
 */
export async function runSnapshotsDemo(options: SnapshotsDemoOptions): Promise<SnapshotsDemoResult> {
  const { log } = options;
  const name = options.name ?? snapshotSettings.defaultName;
  const started = performance.now();
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const resources = await createSnapshotResources({ dynamodb, sqs, tableName: options.snapshotsTable });
  const grantedTables = options.grantedTables ?? Object.values(options.routes).map((r) => r.tableName);
  const parse = pipelineConfigParser(grantedTables);
  const bootstrap = parse({ routing: options.routes });
  const store = new DynamoDbSnapshotStore({ client: dynamodb, tableName: resources.tableName });
  const publisher = new SnapshotPublisher({
    store,
    validate: parse,
    schemaVersion: PIPELINE_CONFIG_SCHEMA_VERSION,
  });
  // As the batch writer holds it: routing from the environment until a snapshot exists.
  const reader = createSnapshotReader<PipelineConfig>({
    client: dynamodb,
    tableName: resources.tableName,
    name,
    parse,
    bootstrap,
  });
  const poller = new SqsEventSourcePoller({
    sqs,
    queueUrl: resources.changesQueueUrl,
    queueArn: resources.changesQueueArn,
    handler: createConfigChangeHandler({
      tableName: resources.tableName,
      name,
      dlqUrl: resources.changesDlqUrl,
      maxAttempts: snapshotSettings.publisher.maxAttempts,
      grantedTables,
      bootstrap,
    }),
    batchSize: snapshotSettings.publisher.batchSize,
    timeoutMs: snapshotSettings.publisher.timeoutSeconds * 1000,
    functionName: 'snapshot-publisher-local',
  });
  log(`snapshots table ${resources.tableName}, config-changes ${resources.changesQueueUrl}`);

  try {
    const [first] = Object.entries(options.routes);
    if (first === undefined) throw new Error('the demo needs at least one route');
    const audit = { op: 'put', table: 'audit', item: { pk: 'audit#1', sk: 'event' } } as const;
    const routesAudit = () => {
      try {
        return routerFor(reader.get().data).toWriteRequest(audit).target.tableName;
      } catch (error) {
        if (error instanceof PipelineError) return error.code;
        throw error;
      }
    };

    // 1. Version 1: the write path's routing plus a logical `audit` table.
    await reader.load();
    log(`reader before any publish: version ${reader.get().version} (bootstrap), audit → ${routesAudit()}`);
    const v1 = await publisher.publish(
      name,
      { routing: { ...options.routes, audit: { ...first[1], ops: ['put'] } } },
      { source: 'demo' },
    );
    await reader.refresh();
    const auditBefore = routesAudit();
    log(
      `published version ${v1.manifest.version} (${v1.manifest.bytes} B, sha256 ${v1.manifest.sha256.slice(0, 12)}…); ` +
        `reader: routes ${Object.keys(reader.get().data.routing).join(', ')}; audit → ${auditBefore}`,
    );

    // 2. One batch of changes through the queue → one new version; the invalid one → DLQ.
    const changes = [
      { op: 'delete', path: 'routing.audit' },
      { op: 'set', path: 'writeOptions.maxConcurrency', value: 16 },
      { op: 'set', path: `routing.${first[0]}.ops`, value: ['upsert'] },
    ];
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: resources.changesQueueUrl,
        Entries: changes.map((change, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(change),
          MessageGroupId: name,
          MessageDeduplicationId: randomUUID(),
        })),
      }),
    );
    await poller.start();
    await poller.drain({ timeoutMs: 60_000 });
    await poller.stop();
    const outcome = await reader.refresh();
    const auditAfter = routesAudit();
    const deadLetteredCodes = await deadLetterCodes(sqs, resources.changesDlqUrl);
    log(
      `sent ${changes.length} changes in one batch → ${outcome.status === 'updated' ? 'adopted' : outcome.status} ` +
        `version ${reader.get().version}: routes ${Object.keys(reader.get().data.routing).join(', ')}, ` +
        `maxConcurrency ${reader.get().data.writeOptions.maxConcurrency}; audit → ${auditAfter}; ` +
        `DLQ: ${deadLetteredCodes.join(', ') || 'empty'}`,
    );

    // 3. A canary for 25% of the callers, then a rollback for everyone.
    const candidate = { ...reader.get().data, models: { classifier: { version: 'v8' } } };
    await publisher.publish(name, candidate, { source: 'demo', rollout: { percentage: 25 } });
    await reader.refresh();
    const callers = Array.from({ length: 1000 }, (_, i) => `device-${i}`);
    const canaryShare = callers.filter((key) => reader.getFor({ key }).data.models.classifier).length / 1000;
    log(
      `canary: version ${reader.status().candidateVersion} at 25% → ${(canaryShare * 100).toFixed(1)}% of 1,000 callers`,
    );
    const pointer = await publisher.rollback(name, v1.manifest.version + 1, { source: 'demo' });
    await reader.refresh();
    log(
      `rollback: generation ${pointer.generation}, everyone on version ${pointer.stable} ` +
        `(candidate ${reader.status().candidateVersion ?? 'none'})`,
    );
    return {
      snapshotsTable: resources.tableName,
      generation: pointer.generation,
      stableVersion: pointer.stable,
      auditRoutedBefore: auditBefore !== 'UNKNOWN_TABLE',
      auditRoutedAfter: auditAfter !== 'UNKNOWN_TABLE',
      deadLetteredCodes,
      canaryShare,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    await poller.stop();
    reader.stop();
    await resources.delete();
    dynamodb.destroy();
    sqs.destroy();
  }
}

async function deadLetterCodes(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  if (Number(Attributes?.ApproximateNumberOfMessages ?? 0) === 0) return [];
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
    }),
  );
  return (Messages ?? []).map((m) => m.MessageAttributes?.ErrorCode?.StringValue ?? 'unknown');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  await using aws = await startEmbeddedAws({ log });
  Object.assign(process.env, endpointEnv(aws.endpoints), { POWERTOOLS_LOG_LEVEL: 'WARN' });
  const routes: RoutesConfig = {
    items: {
      tableName: 'items-demo',
      partitionKey: 'pk',
      sortKey: 'sk',
      keyType: 'S',
      ops: ['put', 'delete'],
    },
  };
  const result = await runSnapshotsDemo({ log, routes });
  log(JSON.stringify(result));
}
