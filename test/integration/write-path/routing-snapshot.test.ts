import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable, deleteTable } from '../../../shared/local/resources/write-path.ts';
import { pipelineConfigParser } from '../../../shared/pipeline/config.ts';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { DynamoDbSnapshotStore } from '../../../shared/snapshots/store.ts';
import { createSnapshotTable } from '../../../shared/snapshots/table.ts';
import { startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

const dynamodb = new DynamoDBClient({});
const suffix = randomUUID().slice(0, 8);
const snapshotsTable = `snapshots-${suffix}`;
const auditTable = `audit-${suffix}`;
let pipeline: WritePathHarness;
let publisher: SnapshotPublisher;

beforeAll(async () => {
  await Promise.all([
    createSnapshotTable(dynamodb, snapshotsTable),
    createTable(dynamodb, { tableName: auditTable, partitionKey: 'pk', sortKey: 'sk' }),
  ]);
  pipeline = await startWritePath({
    dataTables: [auditTable],
    snapshots: { tableName: snapshotsTable, name: 'pipeline', maxAgeMs: 100 },
  });
  publisher = new SnapshotPublisher({
    store: new DynamoDbSnapshotStore({ client: dynamodb, tableName: snapshotsTable }),
    validate: pipelineConfigParser(pipeline.grantedTables),
  });
});

afterAll(async () => {
  await pipeline.stop();
  await Promise.all([deleteTable(dynamodb, snapshotsTable), deleteTable(dynamodb, auditTable)]);
});

const auditMessage = (pk: string) => ({ op: 'put', table: 'audit', item: { pk, sk: '1', seen: true } });

describe('batch writer routing from the config snapshot', () => {
  it('follows a published routing change, and stops writing to a table once it is removed', async () => {
    // Prepare: before any snapshot, only the bootstrap routing (items) applies.
    await pipeline.send([auditMessage('before')]);
    await pipeline.drain();
    expect((await pipeline.deadLetters()).map((l) => l.errorCode)).toEqual(['UNKNOWN_TABLE']);

    // Act 1: publish routing with an extra `audit` table.
    const items = pipeline.resources.routes.items!;
    await publisher.publish(
      'pipeline',
      { routing: { items, audit: { ...items, tableName: auditTable } } },
      { source: 'test' },
    );
    await new Promise((r) => setTimeout(r, 200));
    await pipeline.send([auditMessage('during')]);
    await pipeline.drain();

    // Assess 1
    const during = await dynamodb.send(
      new GetItemCommand({ TableName: auditTable, Key: { pk: { S: 'during' }, sk: { S: '1' } } }),
    );
    expect(during.Item?.seen).toEqual({ BOOL: true });

    // Act 2: remove `audit` again.
    await publisher.update(
      'pipeline',
      (current) => ({ routing: { items: (current!.data as { routing: { items: unknown } }).routing.items } }),
      { source: 'test' },
    );
    await new Promise((r) => setTimeout(r, 200));
    await pipeline.send([auditMessage('after')]);
    await pipeline.drain();

    // Assess 2
    expect((await pipeline.deadLetters()).map((l) => l.errorCode)).toEqual(['UNKNOWN_TABLE']);
    const after = await dynamodb.send(
      new GetItemCommand({ TableName: auditTable, Key: { pk: { S: 'after' }, sk: { S: '1' } } }),
    );
    expect(after.Item).toBeUndefined();
  });
});
