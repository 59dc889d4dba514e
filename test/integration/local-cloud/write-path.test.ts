import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type Message, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localClientConfig } from '../../../shared/local/aws/client-config.ts';
import { type CloudAssembly, readCloudAssembly } from '../../../shared/local/cloud/assembly.ts';
import { type LocalCloud, startLocalCloud } from '../../../shared/local/cloud/local-cloud.ts';

// The synthesized WritePath stack "deployed" on the embedded stack: functions run from their
// bundled assets in cdk.out with the template's environment, IAM enforced from the template.

/** The assembly with one action taken out of the batch writer's policy, as a changed infra/ would produce. */
function withoutGrant(assembly: CloudAssembly, action: string): CloudAssembly {
  const copy = structuredClone(assembly) as CloudAssembly;
  const stack = copy.stacks.find((s) => s.name === 'WritePath')!;
  for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' || !logicalId.startsWith('WritePathBatchWriterRole')) continue;
    const document = resource.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] };
    for (const statement of document.Statement) {
      const actions = [statement.Action].flat().filter((a) => a !== action);
      statement.Action = actions.length === 1 ? actions[0]! : actions;
    }
  }
  return copy;
}

/** A copy of the WritePath stack of its own (generated names prefixed), so test files do not share resources. */
async function startWritePathCloud(assembly: CloudAssembly): Promise<LocalCloud> {
  return startLocalCloud({
    assembly,
    endpoints: inject('localAws'),
    stacks: ['WritePath'],
    namePrefix: `t${randomUUID().slice(0, 6)}-`,
  });
}

async function send(cloud: LocalCloud, bodies: readonly unknown[]): Promise<void> {
  const sqs = new SQSClient(localClientConfig(cloud.endpoints.sqs, cloud.endpoints.region));
  const queueUrl = cloud.output('WritePath', 'IngestQueueUrl');
  for (let start = 0; start < bodies.length; start += 10) {
    const entries = bodies.slice(start, start + 10).map((body, j) => ({
      Id: String(j),
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
    }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    expect(out.Failed ?? []).toEqual([]);
  }
}

async function items(cloud: LocalCloud): Promise<Map<string, Record<string, unknown>>> {
  const dynamodb = new DynamoDBClient(localClientConfig(cloud.endpoints.dynamodb, cloud.endpoints.region));
  const page = await dynamodb.send(
    new ScanCommand({ TableName: cloud.output('WritePath', 'TableName'), ConsistentRead: true }),
  );
  return new Map((page.Items ?? []).map((raw) => unmarshall(raw)).map((item) => [String(item.pk), item]));
}

async function deadLetters(cloud: LocalCloud): Promise<Message[]> {
  const sqs = new SQSClient(localClientConfig(cloud.endpoints.sqs, cloud.endpoints.region));
  const letters: Message[] = [];
  for (let empty = 0; empty < 2; ) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: cloud.output('WritePath', 'DeadLetterQueueUrl'),
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 300,
      }),
    );
    if (!out.Messages?.length) empty++;
    else letters.push(...out.Messages);
  }
  return letters;
}

describe('the synthesized write path on the local cloud', () => {
  let assembly: CloudAssembly;
  let cloud: LocalCloud;

  beforeAll(async () => {
    assembly = readCloudAssembly(inject('cloudAssemblyDir'));
    cloud = await startWritePathCloud(assembly);
  });

  afterAll(async () => {
    await cloud?.stop();
    await cloud?.destroy();
  });

  it('creates the tables and queues the template declares, with stable names', async () => {
    // Assess
    const { queues, tables } = cloud.deployment;
    const ingest = queues.find((q) => q.url === cloud.output('WritePath', 'IngestQueueUrl'))!;
    expect(ingest.visibilityTimeoutSeconds).toBe(360);
    expect(tables.map((t) => t.name)).toContain(cloud.output('WritePath', 'TableName'));
    expect(cloud.output('WritePath', 'TableName')).toMatch(
      /^t[0-9a-f]{6}-WritePath-WritePathTable[A-Z0-9]+-[A-Z0-9]{12}$/,
    );
    expect(cloud.deployment.notEmulated.get('AWS::CloudWatch::Alarm')).toBeGreaterThan(0);
  });

  it('applies writes through the bundled batch writer and dead-letters bad input with its code', async () => {
    // Prepare
    const bodies = [
      { op: 'put', item: { pk: 'a', sk: '1', n: 1 }, version: 1 },
      { op: 'put', item: { pk: 'a', sk: '1', n: 3 }, version: 3 },
      { op: 'put', item: { pk: 'a', sk: '1', n: 2 }, version: 2 },
      { op: 'put', item: { pk: 'b', sk: '1', n: 1 } },
      '{"op"',
      { op: 'put', table: 'nope', item: { pk: 'x', sk: '1' } },
    ];
    // Act
    await send(cloud, bodies);
    await cloud.drain(60_000);
    // Assess
    const stored = await items(cloud);
    expect(stored.get('a')).toMatchObject({ n: 3, _version: 3 });
    expect(stored.get('b')).toMatchObject({ n: 1 });
    const codes = (await deadLetters(cloud)).map((m) => m.MessageAttributes?.ErrorCode?.StringValue).sort();
    expect(codes).toEqual(['INVALID_JSON', 'UNKNOWN_TABLE']);
    expect(cloud.iam.denials()).toEqual([]);
  });
});

describe('the local cloud enforces the template IAM', () => {
  it('refuses the batch writer a write its role no longer grants, naming the action', async () => {
    // Prepare: the batch writer's policy without dynamodb:BatchWriteItem.
    const assembly = withoutGrant(readCloudAssembly(inject('cloudAssemblyDir')), 'dynamodb:BatchWriteItem');
    const cloud = await startWritePathCloud(assembly);
    try {
      // Act
      await send(cloud, [{ op: 'put', item: { pk: 'denied', sk: '1' } }]);
      await cloud.drain(60_000);
      // Assess: nothing written; the message is dead-lettered as ACCESS_DENIED, not retried forever.
      expect((await items(cloud)).has('denied')).toBe(false);
      const letters = await deadLetters(cloud);
      expect(letters.map((m) => m.MessageAttributes?.ErrorCode?.StringValue)).toEqual(['ACCESS_DENIED']);
      expect(cloud.iam.denials()).toEqual([
        expect.objectContaining({
          action: 'dynamodb:BatchWriteItem',
          resource: expect.stringContaining(':table/'),
        }),
      ]);
    } finally {
      await cloud.stop();
      await cloud.destroy();
    }
  });
});
