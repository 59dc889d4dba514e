import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Message, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../../shared/local/aws/client-config.ts';
import { readCloudAssembly } from '../../../shared/local/cloud/assembly.ts';
import { type LocalCloud, startLocalCloud } from '../../../shared/local/cloud/local-cloud.ts';
import type { SqsEventSourcePoller } from '../../../shared/local/lambda/poller.ts';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { DynamoDbSnapshotStore } from '../../../shared/snapshots/store.ts';

// The bundled snapshot publisher Lambda as deployed: the synthesized WritePath stack on the local
// cloud, with the template's environment (SNAPSHOT_NAME, GRANTED_TABLES, BOOTSTRAP_CONFIG) and its
// event source on the config-changes FIFO queue.
const route = (tableName: string) => ({ tableName, partitionKey: 'pk', sortKey: 'sk' });

describe('snapshot publisher Lambda on the local cloud', () => {
  let cloud: LocalCloud;
  let sqs: SQSClient;
  let dynamodb: DynamoDBClient;
  let publisher: SnapshotPublisher;
  let events: SqsEventSourcePoller;
  let itemsTable: string;
  /** What the publisher signs its versions with: `lambda:<its deployed function name>`. */
  let signature: string;

  beforeAll(async () => {
    cloud = await startLocalCloud({
      assembly: readCloudAssembly(inject('cloudAssemblyDir')),
      endpoints: inject('localAws'),
      stacks: ['WritePath'],
      namePrefix: `s${randomUUID().slice(0, 6)}-`,
    });
    const { region } = cloud.endpoints;
    sqs = new SQSClient(localClientConfig(cloud.endpoints.sqs, region));
    dynamodb = new DynamoDBClient(localClientConfig(cloud.endpoints.dynamodb, region));
    const tableName = cloud.output('WritePath', 'SnapshotsTableName');
    publisher = new SnapshotPublisher({ store: new DynamoDbSnapshotStore({ client: dynamodb, tableName }) });
    itemsTable = cloud.output('WritePath', 'TableName');
    const changes = cloud.deployment.queues.find(
      (q) => q.url === cloud.output('WritePath', 'ConfigChangesQueueUrl'),
    );
    const mapping = cloud.deployment.eventSourceMappings.find((m) => m.queueArn === changes?.arn);
    events = cloud.pollers.get(mapping!.logicalId)!;
    signature = `lambda:${mapping!.functionName}`;
  });

  afterAll(async () => {
    const denials = cloud?.iam.denials() ?? [];
    await cloud?.stop();
    await cloud?.destroy();
    sqs?.destroy();
    dynamodb?.destroy();
    expect(denials).toEqual([]);
  });

  it('publishes one version per batch and dead-letters invalid changes with their reason', async () => {
    // Prepare
    await publisher.publish('pipeline', { routing: { items: route(itemsTable) } });
    const changes = [
      { op: 'set', path: 'routing.orders', value: route(itemsTable) },
      { op: 'set', path: 'routing.items.partitionKey', value: '' },
      { op: 'set', path: 'models.classifier', value: { version: 'v7' } },
    ].map((change) => JSON.stringify(change));
    // Act: one SendMessageBatch in one message group, as a producer sends a set of changes.
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: cloud.output('WritePath', 'ConfigChangesQueueUrl'),
        Entries: changes.map((body, i) => ({
          Id: String(i),
          MessageBody: body,
          MessageGroupId: 'config',
          MessageDeduplicationId: randomUUID(),
        })),
      }),
    );
    await cloud.drain(30_000);
    const letters = await deadLetters(cloud, sqs, 1);
    // Assess
    expect(sent.Failed ?? []).toEqual([]);
    expect(events.stats).toMatchObject({ invocations: 1, records: 3, failed: 0, failedInvocations: 0 });
    const { data, manifest, pointer } = await publisher.read('pipeline');
    expect(pointer).toMatchObject({ generation: 2, stable: 2, updatedBy: signature });
    expect(manifest.source).toBe(signature);
    expect(signature).toMatch(/^lambda:s[0-9a-f]{6}-WritePath-SnapshotsPublisher/);
    expect(data).toMatchObject({
      routing: { orders: { tableName: itemsTable } },
      models: { classifier: { version: 'v7' } },
    });
    expect(letters).toHaveLength(1);
    expect(letters[0]!.Body).toBe(changes[1]);
    expect(letters[0]!.MessageAttributes?.ErrorCode?.StringValue).toBe('CHANGE_REJECTED');
    expect(letters[0]!.MessageAttributes?.ErrorMessage?.StringValue).toMatch(/routing\.items\.partitionKey/);
  });
});

/** What reached the config-changes DLQ: polls until `count` letters came, then once more for extras. */
async function deadLetters(cloud: LocalCloud, sqs: SQSClient, count: number): Promise<Message[]> {
  const letters: Message[] = [];
  const deadline = Date.now() + 10_000;
  for (let empty = 0; empty < 2 && Date.now() < deadline; ) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: cloud.output('WritePath', 'ConfigChangesDeadLetterQueueUrl'),
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 300,
      }),
    );
    letters.push(...(Messages ?? []));
    if (!Messages?.length && letters.length >= count) empty++;
    if (!Messages?.length) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return letters;
}
