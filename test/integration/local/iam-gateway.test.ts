import { randomUUID } from 'node:crypto';
import { BatchWriteItemCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { localCredentials } from '../../../shared/local/aws/client-config.ts';
import {
  credentialsFor,
  IamEvaluator,
  type IamGateway,
  LocalIdentities,
  type LocalRole,
  type PolicyDocument,
  startIamGateway,
} from '../../../shared/local/cloud/iam/index.ts';
import {
  createQueue,
  createTable,
  deleteQueue,
  deleteTable,
} from '../../../shared/local/resources/write-path.ts';

const suffix = randomUUID().slice(0, 8);
const names = {
  allowedTable: `iam-a-${suffix}`,
  deniedTable: `iam-b-${suffix}`,
  allowedQueue: `iam-send-${suffix}`,
  deniedQueue: `iam-nosend-${suffix}`,
};
const { region } = inject('localAws');
const direct = { dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}) };
let account: string;
let queueUrls: { allowed: string; denied: string };

let writer: LocalRole;
let iam: IamEvaluator;
let gateways: { dynamodb: IamGateway; sqs: IamGateway };

const tableArn = (name: string) => `arn:aws:dynamodb:${region}:${account}:table/${name}`;
const queueArn = (name: string) => `arn:aws:sqs:${region}:${account}:${name}`;

/** The queue policy the templates' secure queues carry. */
const denyInsecureTransport = (arn: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Action: 'sqs:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Resource: arn,
    },
  ],
});

function writerRole(): LocalRole {
  return {
    arn: `arn:aws:iam::${account}:role/iam-writer-${suffix}`,
    name: `iam-writer-${suffix}`,
    stack: 'Test',
    logicalId: 'WriterRole',
    policies: [
      {
        name: 'WriterRoleDefaultPolicy',
        document: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'],
              Resource: tableArn(names.allowedTable),
            },
            { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn(names.allowedQueue) },
          ],
        },
      },
    ],
  };
}

/** SDK clients that reach the emulators through the gateways, as `credentials`. */
function clients(credentials: { accessKeyId: string; secretAccessKey: string }) {
  // maxAttempts 1: a refusal reaches the test as it is.
  return {
    dynamodb: new DynamoDBClient({ endpoint: gateways.dynamodb.url, region, credentials, maxAttempts: 1 }),
    sqs: new SQSClient({ endpoint: gateways.sqs.url, region, credentials, maxAttempts: 1 }),
  };
}

function batchWrite(table: string, pk: string): BatchWriteItemCommand {
  return new BatchWriteItemCommand({
    RequestItems: { [table]: [{ PutRequest: { Item: { pk: { S: pk } } } }] },
  });
}

async function itemExists(table: string, pk: string): Promise<boolean> {
  const { Item } = await direct.dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: pk } } }),
  );
  return Item !== undefined;
}

/** The queue's URL as the gateway hands it out (pointing at the gateway), asked with admin credentials. */
async function gatewayQueueUrl(queueName: string): Promise<string> {
  const { QueueUrl } = await clients(localCredentials).sqs.send(
    new GetQueueUrlCommand({ QueueName: queueName }),
  );
  return QueueUrl!;
}

/** Sends through the gateway, returning what the SDK threw (or 'sent'). */
async function sendOutcome(client: SQSClient, QueueUrl: string): Promise<unknown> {
  return client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' })).then(
    () => 'sent',
    (error: unknown) => error,
  );
}

beforeAll(async () => {
  const [allowed, denied] = await Promise.all([
    createQueue(direct.sqs, { queueName: names.allowedQueue }),
    createQueue(direct.sqs, { queueName: names.deniedQueue }),
    createTable(direct.dynamodb, { tableName: names.allowedTable, partitionKey: 'pk' }),
    createTable(direct.dynamodb, { tableName: names.deniedTable, partitionKey: 'pk' }),
  ]);
  // The ARNs the emulator gives its queues name the account the policies must name.
  account = allowed.arn.split(':')[4]!;
  queueUrls = { allowed: allowed.url, denied: denied.url };
  writer = writerRole();
});

afterAll(async () => {
  await Promise.all([
    deleteTable(direct.dynamodb, names.allowedTable),
    deleteTable(direct.dynamodb, names.deniedTable),
    deleteQueue(direct.sqs, queueUrls.allowed),
    deleteQueue(direct.sqs, queueUrls.denied),
  ]);
});

beforeEach(async () => {
  iam = new IamEvaluator([writer], {
    resourcePolicies: new Map([
      [queueArn(names.allowedQueue), denyInsecureTransport(queueArn(names.allowedQueue))],
      [queueArn(names.deniedQueue), denyInsecureTransport(queueArn(names.deniedQueue))],
    ]),
  });
  const identities = new LocalIdentities([writer]);
  const { dynamodb, sqs } = inject('localAws');
  const common = { evaluator: iam, identities, region, account };
  gateways = {
    dynamodb: await startIamGateway({ ...common, service: 'dynamodb', upstream: dynamodb }),
    sqs: await startIamGateway({ ...common, service: 'sqs', upstream: sqs }),
  };
});

afterEach(async () => {
  await Promise.all([gateways.dynamodb.stop(), gateways.sqs.stop()]);
});

describe('IAM gateway: DynamoDB', () => {
  it('forwards a BatchWriteItem the role is allowed', async () => {
    // Prepare
    const { dynamodb } = clients(credentialsFor(writer));
    // Act
    const output = await dynamodb.send(batchWrite(names.allowedTable, 'allowed'));
    // Assess
    expect(output.UnprocessedItems ?? {}).toEqual({});
    expect(await itemExists(names.allowedTable, 'allowed')).toBe(true);
  });

  it('refuses a BatchWriteItem on a table the role may not write, as AWS does, and writes nothing', async () => {
    // Prepare
    const { dynamodb } = clients(credentialsFor(writer));
    // Act
    const writing = dynamodb.send(batchWrite(names.deniedTable, 'refused'));
    // Assess
    await expect(writing).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message:
        `User: arn:aws:sts::${account}:assumed-role/${writer.name}/local is not authorized to perform: ` +
        `dynamodb:BatchWriteItem on resource: ${tableArn(names.deniedTable)} ` +
        'because no identity-based policy allows the dynamodb:BatchWriteItem action',
    });
    expect(await itemExists(names.deniedTable, 'refused')).toBe(false);
  });

  it('refuses a whole batch when one of its tables is denied', async () => {
    // Prepare
    const { dynamodb } = clients(credentialsFor(writer));
    const both = new BatchWriteItemCommand({
      RequestItems: {
        [names.allowedTable]: [{ PutRequest: { Item: { pk: { S: 'mixed' } } } }],
        [names.deniedTable]: [{ PutRequest: { Item: { pk: { S: 'mixed' } } } }],
      },
    });
    // Act
    const writing = dynamodb.send(both);
    // Assess
    await expect(writing).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(await itemExists(names.allowedTable, 'mixed')).toBe(false);
    expect(await itemExists(names.deniedTable, 'mixed')).toBe(false);
  });

  it('lets admin credentials through unchecked and records nothing for them', async () => {
    // Prepare
    const { dynamodb } = clients(localCredentials);
    // Act
    await dynamodb.send(batchWrite(names.deniedTable, 'admin'));
    // Assess
    expect(await itemExists(names.deniedTable, 'admin')).toBe(true);
    expect(iam.decisions()).toEqual([
      { roleArn: writer.arn, roleName: writer.name, allowed: [], denied: [] },
    ]);
  });
});

describe('IAM gateway: SQS', () => {
  it('sends to the queue the role may send to, and refuses the other one naming action and resource', async () => {
    // Prepare
    const { sqs } = clients(credentialsFor(writer));
    const allowedUrl = await gatewayQueueUrl(names.allowedQueue);
    const deniedUrl = await gatewayQueueUrl(names.deniedQueue);
    // Act
    const sent = await sendOutcome(sqs, allowedUrl);
    const refused = await sendOutcome(sqs, deniedUrl);
    // Assess
    expect(sent).toBe('sent');
    // @aws-sdk/client-sqs (JSON protocol, awsQueryCompatible) names the error after x-amzn-query-error.
    expect(refused).toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining(`sqs:SendMessage on resource: ${queueArn(names.deniedQueue)}`),
    });
    const received = await direct.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrls.denied, WaitTimeSeconds: 0, MaxNumberOfMessages: 10 }),
    );
    expect(received.Messages ?? []).toEqual([]);
  });

  it('answers a query-protocol request with the XML AccessDenied error', async () => {
    // Prepare
    const { accessKeyId } = credentialsFor(writer);
    const authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/${region}/sqs/aws4_request, SignedHeaders=host, Signature=0`;
    const body = new URLSearchParams({ Action: 'SendMessage', QueueUrl: queueUrls.denied, MessageBody: 'x' });
    // Act
    const response = await fetch(gateways.sqs.url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    // Assess
    const xml = await response.text();
    expect(response.status).toBe(403);
    expect(xml).toContain('<Code>AccessDenied</Code>');
    expect(xml).toContain(`sqs:SendMessage on resource: ${queueArn(names.deniedQueue)}`);
  });

  it('points the queue URLs it returns back at itself', async () => {
    // Prepare
    const admin = clients(localCredentials).sqs;
    // Act
    const { QueueUrl } = await admin.send(new GetQueueUrlCommand({ QueueName: names.allowedQueue }));
    const { QueueUrls } = await admin.send(new ListQueuesCommand({ QueueNamePrefix: `iam-send-${suffix}` }));
    // Assess
    expect(QueueUrl).toBe(`${gateways.sqs.url}/${new URL(queueUrls.allowed).pathname.slice(1)}`);
    expect(QueueUrls).toEqual([QueueUrl]);
  });
});

describe('IAM gateway: ECS', () => {
  it('refuses a DescribeServices the role may not make with a JSON 1.1 AccessDeniedException', async () => {
    // Prepare: no ECS emulator runs here; a refusal is answered before anything is forwarded.
    const identities = new LocalIdentities([writer]);
    const ecsGateway = await startIamGateway({
      service: 'ecs',
      upstream: 'http://127.0.0.1:9',
      evaluator: iam,
      identities,
      region,
      account,
    });
    const ecs = new ECSClient({
      endpoint: ecsGateway.url,
      region,
      credentials: credentialsFor(writer),
      maxAttempts: 1,
    });
    // Act
    const describing = ecs.send(new DescribeServicesCommand({ cluster: 'workers', services: ['gpu'] }));
    // Assess
    await expect(describing).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining(
        `ecs:DescribeServices on resource: arn:aws:ecs:${region}:${account}:service/workers/gpu`,
      ),
    });
    await ecsGateway.stop();
  });
});

describe('IAM gateway records', () => {
  it('reports exactly the denials and unused grants of what the role did', async () => {
    // Prepare
    const role = clients(credentialsFor(writer));
    const deniedUrl = await gatewayQueueUrl(names.deniedQueue);
    // Act
    await role.dynamodb.send(batchWrite(names.allowedTable, 'report'));
    await role.dynamodb.send(batchWrite(names.allowedTable, 'report-2'));
    await role.dynamodb.send(batchWrite(names.deniedTable, 'report')).catch(() => undefined);
    await sendOutcome(role.sqs, deniedUrl);
    // Assess
    expect(iam.denials()).toEqual([
      expect.objectContaining({
        action: 'dynamodb:BatchWriteItem',
        resource: tableArn(names.deniedTable),
        count: 1,
      }),
      expect.objectContaining({ action: 'sqs:SendMessage', resource: queueArn(names.deniedQueue), count: 1 }),
    ]);
    expect(iam.decisions()[0]?.allowed).toEqual([
      expect.objectContaining({
        action: 'dynamodb:BatchWriteItem',
        resource: tableArn(names.allowedTable),
        count: 2,
      }),
    ]);
    expect(iam.unusedGrants()[0]?.grants).toEqual([
      {
        policy: 'WriterRoleDefaultPolicy',
        statement: '#1',
        action: 'dynamodb:PutItem',
        resource: tableArn(names.allowedTable),
      },
      {
        policy: 'WriterRoleDefaultPolicy',
        statement: '#2',
        action: 'sqs:SendMessage',
        resource: queueArn(names.allowedQueue),
      },
    ]);
  });
});
