import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../../shared/local/aws/client-config.ts';
import { readCloudAssembly } from '../../../shared/local/cloud/assembly.ts';
import type { FunctionPool } from '../../../shared/local/cloud/lambda/function-pool.ts';
import { type LocalCloud, startLocalCloud } from '../../../shared/local/cloud/local-cloud.ts';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { DynamoDbSnapshotStore } from '../../../shared/snapshots/store.ts';

// The bundled rollout controller as deployed: the synthesized WritePath stack on the local cloud,
// with the template's environment and its role's IAM policy enforced. The local cloud does not run
// EventBridge schedules, so the test invokes the function with a scheduled event itself. CloudWatch
// is not emulated either: the function's DescribeAlarms fails here, so a rollout naming an alarm holds.
const scheduled = {
  version: '0',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time: new Date().toISOString(),
  resources: [],
  detail: {},
};

describe('rollout controller Lambda on the local cloud', () => {
  let cloud: LocalCloud;
  let dynamodb: DynamoDBClient;
  let store: DynamoDbSnapshotStore;
  let controller: FunctionPool;
  let functionName: string;

  beforeAll(async () => {
    cloud = await startLocalCloud({
      assembly: readCloudAssembly(inject('cloudAssemblyDir')),
      endpoints: inject('localAws'),
      stacks: ['WritePath'],
      namePrefix: `r${randomUUID().slice(0, 6)}-`,
    });
    dynamodb = new DynamoDBClient(localClientConfig(cloud.endpoints.dynamodb, cloud.endpoints.region));
    store = new DynamoDbSnapshotStore({
      client: dynamodb,
      tableName: cloud.output('WritePath', 'SnapshotsTableName'),
    });
    const spec = cloud.deployment.functions.find((f) => f.logicalId.startsWith('RolloutControllerFunction'))!;
    functionName = spec.name;
    controller = cloud.functions.get(functionName)!;
  });

  afterAll(async () => {
    const denials = cloud?.iam.denials() ?? [];
    await cloud?.stop();
    await cloud?.destroy();
    dynamodb?.destroy();
    expect(denials).toEqual([]);
  });

  /** Stable 1 and an automated candidate 2 whose rollout started two minutes ago, so a step is due. */
  async function automated(alarms: string[]) {
    const items = cloud.output('WritePath', 'TableName');
    const publisher = new SnapshotPublisher({ store, clock: () => new Date(Date.now() - 120_000) });
    const document = (ops: string[]) => ({
      routing: { items: { tableName: items, partitionKey: 'pk', sortKey: 'sk', ops } },
    });
    await publisher.publish('pipeline', document(['put', 'delete']));
    await publisher.publish('pipeline', document(['put']), {
      rollout: { percentage: 10, strategy: { stepPercent: 20, everyMs: 60_000, bakeMs: 600_000, alarms } },
    });
  }

  it('steps a due rollout, flipping the pointer within its IAM grants and signing as itself', async () => {
    // Prepare
    await automated([]);
    // Act
    const result = await controller.invoke(scheduled);
    // Assess
    expect(result).toEqual({ ticks: [{ name: 'pipeline', action: 'advance', generation: 3 }] });
    expect(await store.getPointer('pipeline')).toMatchObject({
      generation: 3,
      candidate: { version: 2, percentage: 30 },
      updatedBy: `lambda:${functionName}`,
    });
  });

  it('holds a rollout whose alarm it cannot read (no CloudWatch here) instead of stepping', async () => {
    // Prepare: one of the alarms a rollout may name, per the stack output.
    const [alarm] = cloud.output('WritePath', 'RolloutAlarmNames').split(',');
    await automated([alarm!]);
    const before = await store.getPointer('pipeline');
    // Act
    const result = await controller.invoke(scheduled);
    // Assess
    expect(result).toEqual({
      ticks: [{ name: 'pipeline', action: 'hold', generation: before!.generation + 1 }],
    });
    expect((await store.getPointer('pipeline'))?.candidate).toMatchObject({
      percentage: 10,
      strategy: { alarms: [alarm], alarmsUnknownSince: expect.any(String) },
    });
  });
});
