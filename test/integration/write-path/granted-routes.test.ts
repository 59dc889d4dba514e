import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfigChangeFunction,
  createConfigChangeHandler,
} from '../../../functions/snapshot-publisher/wiring.ts';
import {
  createQueue,
  createTable,
  deleteQueue,
  deleteTable,
} from '../../../shared/local/resources/write-path.ts';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { DynamoDbSnapshotStore } from '../../../shared/snapshots/store.ts';
import { createSnapshotTable } from '../../../shared/snapshots/table.ts';
import { sqsRecord } from '../../support/factories/sqs.ts';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.ts';
import { startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

// The batch writer and the config-changes publisher as deployed: the publisher knows the granted
// tables and the bootstrap document, the batch writer reaches DynamoDB through a proxy that can
// answer AccessDenied like IAM.
const suffix = randomUUID().slice(0, 8);
const snapshotsTable = `snapshots-${suffix}`;
const ordersTable = `orders-${suffix}`;
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});
let proxy: FaultProxy;
let pipeline: WritePathHarness;
let publish: ConfigChangeFunction;
let changesDlqUrl: string;

const route = (tableName: string) => ({ tableName, partitionKey: 'pk', sortKey: 'sk' });
const context = { functionName: 'snapshot-publisher', getRemainingTimeInMillis: () => 60_000 } as Context;

beforeAll(async () => {
  await Promise.all([
    createSnapshotTable(dynamodb, snapshotsTable),
    createTable(dynamodb, { tableName: ordersTable, partitionKey: 'pk', sortKey: 'sk' }),
  ]);
  proxy = await startFaultProxy({ target: process.env.AWS_ENDPOINT_URL_DYNAMODB! });
  pipeline = await startWritePath({
    dynamodbEndpoint: proxy.url,
    dataTables: [ordersTable],
    snapshots: { tableName: snapshotsTable, name: 'pipeline', maxAgeMs: 100 },
  });
  changesDlqUrl = (await createQueue(sqs, { queueName: `config-changes-dlq-${suffix}.fifo`, fifo: true }))
    .url;
  publish = createConfigChangeHandler({
    tableName: snapshotsTable,
    name: 'pipeline',
    dlqUrl: changesDlqUrl,
    maxAttempts: 5,
    grantedTables: pipeline.grantedTables,
    bootstrap: pipeline.bootstrap,
  });
});

afterAll(async () => {
  await pipeline.stop();
  await proxy.close();
  await Promise.all([
    deleteTable(dynamodb, snapshotsTable),
    deleteTable(dynamodb, ordersTable),
    deleteQueue(sqs, changesDlqUrl),
  ]);
});

async function item(tableName: string, pk: string) {
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: tableName,
      Key: { pk: { S: pk }, sk: { S: '1' } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

async function changeDeadLetters() {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: changesDlqUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
    }),
  );
  return (Messages ?? []).map((m) => ({
    code: m.MessageAttributes?.ErrorCode?.StringValue,
    message: m.MessageAttributes?.ErrorMessage?.StringValue,
  }));
}

describe('routes to granted tables only', () => {
  it('publishes a first `set` on top of the bootstrap routing and refuses a route to a table not granted', async () => {
    // Prepare
    const records = [
      sqsRecord({ op: 'set', path: 'routing.orders', value: route(ordersTable) }, { groupId: 'pipeline' }),
      sqsRecord(
        { op: 'set', path: 'routing.audit', value: route(`audit-${suffix}`) },
        { groupId: 'pipeline' },
      ),
    ];
    // Act
    const response = await publish({ Records: records }, context);
    // Wait past the reader's max age: its next invocation then reads the new pointer first.
    await new Promise((r) => setTimeout(r, 200));
    await pipeline.send([
      { op: 'put', item: { pk: 'default-table', sk: '1' } },
      { op: 'put', table: 'orders', item: { pk: 'order-1', sk: '1' } },
    ]);
    await pipeline.drain();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const store = new DynamoDbSnapshotStore({ client: dynamodb, tableName: snapshotsTable });
    const { data, manifest } = await new SnapshotPublisher({ store }).read('pipeline');
    expect(manifest.version).toBe(1);
    expect(Object.keys((data as { routing: object }).routing).sort()).toEqual(['items', 'orders']);
    expect(await changeDeadLetters()).toEqual([
      {
        code: 'ROUTE_NOT_GRANTED',
        message: expect.stringMatching(/^routing\.audit\.tableName: table "audit-/),
      },
    ]);
    expect(await item(pipeline.resources.tableName, 'default-table')).toBeDefined();
    expect(await item(ordersTable, 'order-1')).toBeDefined();
    expect(await pipeline.deadLetters()).toEqual([]);
  });

  it('dead-letters writes DynamoDB still refuses with AccessDenied under ACCESS_DENIED, without retrying them', async () => {
    // Prepare: IAM now refuses the orders table (e.g. a permissions boundary the stack does not know).
    proxy.setRules([{ kind: 'access-denied', tables: [ordersTable] }]);
    // Act
    await pipeline.send([
      { op: 'put', table: 'orders', item: { pk: 'order-2', sk: '1' } },
      { op: 'put', item: { pk: 'beside-it', sk: '1' } },
    ]);
    await pipeline.drain();
    proxy.setRules([]);
    // Assess
    const letters = await pipeline.deadLetters();
    expect(letters.map((l) => l.errorCode)).toEqual(['ACCESS_DENIED']);
    expect(letters[0]!.errorMessage).toContain(ordersTable);
    expect(await item(ordersTable, 'order-2')).toBeUndefined();
    expect(await item(pipeline.resources.tableName, 'beside-it')).toBeDefined();
    expect(pipeline.poller.stats.failed).toBe(0);
  });
});
