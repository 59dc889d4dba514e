import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { DynamoDbSnapshotStore } from '../../../shared/snapshots/store.ts';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.ts';
import { type DataTables, startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

// The test app's routed write path on the local cloud: the batch writer and the config-changes
// publisher as deployed, both knowing the granted tables (the items table, `orders`, `audit`) and
// the publisher the bootstrap document. Config changes go through the ConfigChangesQueueUrl to the
// bundled publisher. DynamoDB sits behind a proxy that can answer AccessDenied like IAM.
let proxy: FaultProxy;
let pipeline: WritePathHarness;
let tables: DataTables;

const route = (tableName: string) => ({ tableName, partitionKey: 'pk', sortKey: 'sk' });

beforeAll(async () => {
  proxy = await startFaultProxy({ target: inject('localAws').dynamodb });
  pipeline = await startWritePath({ stack: 'routed', dynamodbEndpoint: proxy.url });
  tables = pipeline.dataTables!;
});

afterAll(async () => {
  try {
    expect(pipeline.denials()).toEqual([]);
  } finally {
    await pipeline?.stop();
    await proxy?.close();
  }
});

describe('routes to granted tables only', () => {
  it('publishes a first `set` on top of the bootstrap routing and refuses a route to a table not granted', async () => {
    // Prepare: `ungranted` exists, but the write path was not given it as a data table.
    expect(pipeline.grantedTables).toEqual([pipeline.tableName, tables.orders, tables.audit]);
    // Act
    await pipeline.sendConfigChanges([
      { op: 'set', path: 'routing.orders', value: route(tables.orders) },
      { op: 'set', path: 'routing.audit', value: route(tables.ungranted) },
    ]);
    await pipeline.drain();
    // Wait past the reader's max age: its next invocation then reads the new pointer first.
    await new Promise((r) => setTimeout(r, 200));
    await pipeline.send([
      { op: 'put', item: { pk: 'default-table', sk: '1' } },
      { op: 'put', table: 'orders', item: { pk: 'order-1', sk: '1' } },
    ]);
    await pipeline.drain();
    // Assess: the publisher handled both changes (none left for redelivery).
    expect(pipeline.publisherPoller.stats).toMatchObject({ records: 2, failed: 0, failedInvocations: 0 });
    const store = new DynamoDbSnapshotStore({
      client: pipeline.dynamodb,
      tableName: pipeline.snapshotsTableName,
    });
    const { data, manifest } = await new SnapshotPublisher({ store }).read('pipeline');
    expect(manifest.version).toBe(1);
    const { routing } = data as { routing: Record<string, unknown> };
    expect(Object.keys(routing).sort()).toEqual(['items', 'orders']);
    expect(routing.items).toEqual(pipeline.routes.items);
    expect(await pipeline.configDeadLetters()).toEqual([
      expect.objectContaining({
        errorCode: 'ROUTE_NOT_GRANTED',
        errorMessage: expect.stringMatching(
          new RegExp(`^routing\\.audit\\.tableName: table "${tables.ungranted}"`),
        ),
      }),
    ]);
    expect(await pipeline.item(pipeline.tableName, 'default-table')).toBeDefined();
    expect(await pipeline.item(tables.orders, 'order-1')).toBeDefined();
    expect(await pipeline.items(tables.ungranted)).toEqual(new Map());
    expect(await pipeline.deadLetters()).toEqual([]);
  });

  it('dead-letters writes DynamoDB still refuses with AccessDenied under ACCESS_DENIED, without retrying them', async () => {
    // Prepare: DynamoDB now refuses the orders table although IAM allows it (e.g. a permissions
    // boundary the stack does not know): the gateway lets the call through, the proxy refuses it.
    proxy.setRules([{ kind: 'access-denied', tables: [tables.orders] }]);
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
    expect(letters[0]!.errorMessage).toContain(tables.orders);
    expect(proxy.stats.accessDenied).toBeGreaterThan(0);
    expect(await pipeline.item(tables.orders, 'order-2')).toBeUndefined();
    expect(await pipeline.item(pipeline.tableName, 'beside-it')).toBeDefined();
    expect(pipeline.poller.stats.failed).toBe(0);
  });
});
