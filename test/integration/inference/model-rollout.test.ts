import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotModelsFor } from '../../../functions/inference-dispatcher/model-snapshot.ts';
import {
  SnapshotModelVersionResolver,
  StaticModelVersionResolver,
} from '../../../functions/inference-dispatcher/model-version.ts';
import { deleteTable } from '../../../shared/local/resources/write-path.ts';
import { parsePipelineConfig } from '../../../shared/pipeline/config.ts';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { DynamoDbSnapshotStore } from '../../../shared/snapshots/store.ts';
import { createSnapshotTable } from '../../../shared/snapshots/table.ts';

const client = new DynamoDBClient({});
const tableName = `snapshots-${randomUUID().slice(0, 8)}`;
const routing = { items: { tableName: 'pipeline-items', partitionKey: 'pk', sortKey: 'sk' } };
const grantedTables = ['pipeline-items'];
let publisher: SnapshotPublisher;

beforeAll(async () => {
  await createSnapshotTable(client, tableName);
  publisher = new SnapshotPublisher({
    store: new DynamoDbSnapshotStore({ client, tableName }),
    validate: parsePipelineConfig,
  });
});

afterAll(async () => {
  await deleteTable(client, tableName);
  client.destroy();
});

describe('model versions from the pipeline config snapshot', () => {
  it('uses the static versions until a snapshot is published, then the snapshot, with a staged rollout by jobId', async () => {
    // Prepare
    const resolver = new SnapshotModelVersionResolver(
      snapshotModelsFor({ client, tableName, grantedTables }),
      new StaticModelVersionResolver({ 'shelf-classifier': '0' }),
    );
    const ids = Array.from({ length: 400 }, (_, i) => `job-${i}`);
    const before = await resolver.resolve('shelf-classifier', 'job-0');
    await publisher.publish('pipeline', { routing, models: { 'shelf-classifier': { version: '1' } } });
    // A new resolver: a reader checks the pointer again only past its max age.
    const stable = new SnapshotModelVersionResolver(
      snapshotModelsFor({ client, tableName, grantedTables }),
      new StaticModelVersionResolver({}),
    );
    const onStable = await stable.resolve('shelf-classifier', 'job-0');
    await publisher.publish(
      'pipeline',
      { routing, models: { 'shelf-classifier': { version: '2' } } },
      { rollout: { percentage: 25 } },
    );
    const rolling = new SnapshotModelVersionResolver(
      snapshotModelsFor({ client, tableName, grantedTables }),
      new StaticModelVersionResolver({}),
    );
    // Act
    const versions = await Promise.all(ids.map((id) => rolling.resolve('shelf-classifier', id)));
    const again = await Promise.all(ids.map((id) => rolling.resolve('shelf-classifier', id)));
    // Assess
    expect(before).toBe('0');
    expect(onStable).toBe('1');
    expect(again).toEqual(versions);
    expect(new Set(versions)).toEqual(new Set(['1', '2']));
    const share = versions.filter((v) => v === '2').length / ids.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.35);
  });
});
