import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineConfigParser } from '../../../shared/pipeline/config.ts';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { DynamoDbSnapshotStore } from '../../../shared/snapshots/store.ts';
import { startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

// The test app's routed write path on the local cloud: granted the `audit` table, following its
// config snapshot with a 100 ms max age. An operator's tool publishes with the snapshot library
// straight to the deployed snapshots table.
let pipeline: WritePathHarness;
let publisher: SnapshotPublisher;
let auditTable: string;

beforeAll(async () => {
  pipeline = await startWritePath({ stack: 'routed' });
  auditTable = pipeline.dataTables!.audit;
  publisher = new SnapshotPublisher({
    store: new DynamoDbSnapshotStore({ client: pipeline.dynamodb, tableName: pipeline.snapshotsTableName }),
    validate: pipelineConfigParser(pipeline.grantedTables),
  });
});

afterAll(async () => {
  try {
    expect(pipeline.denials()).toEqual([]);
  } finally {
    await pipeline?.stop();
  }
});

const auditMessage = (pk: string) => ({ op: 'put', table: 'audit', item: { pk, sk: '1', seen: true } });

describe('batch writer routing from the config snapshot', () => {
  it('follows a published routing change, and stops writing to a table once it is removed', async () => {
    // Prepare: before any snapshot, only the bootstrap routing (items) applies.
    expect(pipeline.grantedTables).toContain(auditTable);
    await pipeline.send([auditMessage('before')]);
    await pipeline.drain();
    expect((await pipeline.deadLetters()).map((l) => l.errorCode)).toEqual(['UNKNOWN_TABLE']);

    // Act 1: publish routing with an extra `audit` table.
    const items = pipeline.routes.items!;
    await publisher.publish(
      'pipeline',
      { routing: { items, audit: { ...items, tableName: auditTable } } },
      { source: 'test' },
    );
    await new Promise((r) => setTimeout(r, 200));
    await pipeline.send([auditMessage('during')]);
    await pipeline.drain();

    // Assess 1
    expect(await pipeline.item(auditTable, 'during')).toMatchObject({ seen: true });
    expect(await pipeline.item(auditTable, 'before')).toBeUndefined();

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
    expect(await pipeline.item(auditTable, 'after')).toBeUndefined();
  });
});
