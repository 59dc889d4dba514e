/**
 * The config snapshot demo on the local cloud, through the deployment's public surfaces only: an
 * `audit` write the batch writer refuses, a batch of changes on the ConfigChangesQueueUrl (applied by
 * the deployed snapshot publisher; the invalid one dead-lettered with its code), the running batch
 * writer adopting the new routing, then a canary and a rollback published with the snapshots
 * library against the SnapshotsTableName output.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  PIPELINE_CONFIG_SCHEMA_VERSION,
  type PipelineConfig,
  pipelineConfigParser,
} from '../../../pipeline/config.ts';
import {
  createSnapshotReader,
  DynamoDbSnapshotStore,
  SnapshotNotFoundError,
  SnapshotPublisher,
  snapshotSettings,
} from '../../../snapshots/index.ts';
import { localClientConfig } from '../../aws/client-config.ts';
import { waitUntil } from '../../poll.ts';
import type { DemoCloud } from '../lib/demo-cloud.ts';
import { type DeadLetter, DeadLetterCollector, sendBodies } from '../lib/queues.ts';

export interface SnapshotsDemoResult {
  /** Why the batch writer refused the `audit` write before the change (`UNKNOWN_TABLE`). */
  readonly refusedBefore: string;
  /** The version the changes published, and what it routes. */
  readonly changedVersion: number;
  readonly routes: readonly string[];
  /** Codes of the changes that went to the config-changes DLQ. */
  readonly deadLetteredCodes: readonly string[];
  /** An `audit` write was applied once the batch writer adopted the change. */
  readonly auditWritten: boolean;
  /** `audit` writes sent until one was applied (the earlier ones met the old routing). */
  readonly auditAttempts: number;
  /** Share of 1,000 callers the 25% canary selected. */
  readonly canaryShare: number;
  /** The pointer after the rollback. */
  readonly generation: number;
  readonly stableVersion: number;
}

type Outcome = { readonly kind: 'written' } | { readonly kind: 'dead-lettered'; readonly letter: DeadLetter };

export async function runSnapshotsDemo(
  demo: DemoCloud,
  log: (line: string) => void,
): Promise<SnapshotsDemoResult> {
  const { cloud } = demo;
  const { region } = cloud.endpoints;
  const out = (name: string) => cloud.output('WritePath', name);
  const tableName = out('TableName');
  const ingestUrl = out('IngestQueueUrl');
  const name = snapshotSettings.defaultName;
  const sqs = new SQSClient(localClientConfig(cloud.endpoints.sqs, region));
  const dynamodb = new DynamoDBClient(localClientConfig(cloud.endpoints.dynamodb, region));
  const ingestDlq = new DeadLetterCollector(sqs, out('DeadLetterQueueUrl'));
  const changesDlq = new DeadLetterCollector(sqs, out('ConfigChangesDeadLetterQueueUrl'));
  const parse = pipelineConfigParser(out('GrantedTableNames').split(','));
  const publisher = new SnapshotPublisher({
    store: new DynamoDbSnapshotStore({ client: dynamodb, tableName: out('SnapshotsTableName') }),
    validate: parse,
    schemaVersion: PIPELINE_CONFIG_SCHEMA_VERSION,
  });
  const reader = createSnapshotReader<PipelineConfig>({
    client: dynamodb,
    tableName: out('SnapshotsTableName'),
    name,
    parse,
  });
  log(`snapshots table ${out('SnapshotsTableName')}, config-changes ${out('ConfigChangesQueueUrl')}`);

  /** Sends one `audit` write and waits until it is written or dead-lettered. */
  const auditWrite = async (n: number): Promise<Outcome> => {
    const key = { pk: `audit#${n}`, sk: 'entry' };
    const [id] = await sendBodies(sqs, ingestUrl, [
      { op: 'put', table: 'audit', item: { ...key, note: 'routed by snapshot' } },
    ]);
    return waitUntil<Outcome>(
      async () => {
        const letter = (await ingestDlq.poll()).find((l) => l.sourceMessageId === id);
        if (letter) return { kind: 'dead-lettered', letter };
        const { Item } = await dynamodb.send(
          new GetItemCommand({
            TableName: tableName,
            Key: { pk: { S: key.pk }, sk: { S: key.sk } },
            ConsistentRead: true,
          }),
        );
        return Item ? { kind: 'written' } : undefined;
      },
      { what: `audit write ${n} to be written or dead-lettered` },
    );
  };

  try {
    // 1. The batch writer serves its bootstrap routing (the template's TABLE_ROUTES): no `audit`.
    const before = await auditWrite(0);
    const refusedBefore = before.kind === 'dead-lettered' ? before.letter.errorCode : 'written';
    log(
      `before any change: an \`audit\` write → ${before.kind === 'dead-lettered' ? `DLQ ${refusedBefore}` : 'written'}`,
    );

    // 2. One FIFO batch of changes: route `audit` to the items table, raise the write concurrency,
    //    and an invalid op list that the publisher refuses.
    const route = { tableName, partitionKey: 'pk', sortKey: 'sk', ops: ['put'] };
    const changes = [
      { op: 'set', path: 'routing.audit', value: route },
      { op: 'set', path: 'writeOptions.maxConcurrency', value: 16 },
      { op: 'set', path: 'routing.items.ops', value: ['upsert'] },
    ];
    await sendBodies(sqs, out('ConfigChangesQueueUrl'), changes, { groupId: name });
    const letters = await waitUntil(
      async () => {
        const seen = await changesDlq.poll();
        return seen.length > 0 ? seen : undefined;
      },
      { what: 'the refused change in the config-changes DLQ' },
    );
    const changed = await waitUntil(
      async () => {
        const stable = await publisher.read(name).catch((error: unknown) => {
          if (error instanceof SnapshotNotFoundError) return undefined;
          throw error;
        });
        const data = stable && parse(stable.data);
        return data?.routing.audit && data.writeOptions.maxConcurrency === 16
          ? { version: stable!.manifest.version, data }
          : undefined;
      },
      { what: 'a published version that routes audit' },
    );
    const routes = Object.keys(changed.data.routing);
    const deadLetteredCodes = letters.map((l) => l.errorCode);
    log(
      `sent ${changes.length} changes in one batch → version ${changed.version}: routes ${routes.join(', ')}, ` +
        `maxConcurrency ${changed.data.writeOptions.maxConcurrency}; config-changes DLQ: ${deadLetteredCodes.join(', ')}`,
    );

    // 3. The running batch writer adopts the change once its snapshot is older than its max age;
    //    until then its instances still refuse `audit`.
    const outcomes: Outcome[] = [];
    for (let n = 1; outcomes.at(-1)?.kind !== 'written'; n++) {
      const outcome = await auditWrite(n);
      outcomes.push(outcome);
      if (outcome.kind === 'dead-lettered' && outcome.letter.errorCode !== 'UNKNOWN_TABLE') break;
      if (outcome.kind === 'dead-lettered') await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const auditWritten = outcomes.at(-1)?.kind === 'written';
    log(
      `batch writer after the change: audit message ${auditWritten ? 'written' : 'NOT written'} ` +
        `(${outcomes.length - 1} earlier write(s) met the old routing while its instances refreshed)`,
    );

    // 4. A canary for 25% of the callers, then a rollback for everyone.
    const candidate = { ...changed.data, models: { classifier: { version: 'v8' } } };
    const canary = await publisher.publish(name, candidate, { source: 'demo', rollout: { percentage: 25 } });
    await reader.load();
    const callers = Array.from({ length: 1000 }, (_, i) => `device-${i}`);
    const canaryShare = callers.filter((key) => reader.getFor({ key }).data.models.classifier).length / 1000;
    log(
      `canary: version ${canary.manifest.version} at 25% → ${(canaryShare * 100).toFixed(1)}% of 1,000 callers`,
    );
    const pointer = await publisher.rollback(name, changed.version, { source: 'demo' });
    await reader.refresh();
    log(
      `rollback: generation ${pointer.generation}, everyone on version ${pointer.stable} ` +
        `(candidate ${reader.status().candidateVersion ?? 'none'})`,
    );
    return {
      refusedBefore,
      changedVersion: changed.version,
      routes,
      deadLetteredCodes,
      auditWritten,
      auditAttempts: outcomes.length,
      canaryShare,
      generation: pointer.generation,
      stableVersion: pointer.stable,
    };
  } finally {
    reader.stop();
    sqs.destroy();
    dynamodb.destroy();
  }
}
