import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import {
  authorizationRequests,
  type IamService,
  MalformedRequestError,
  requestOperation,
  supportedOperations,
  UnsupportedOperationError,
} from '../../../../../../shared/local/cloud/iam/index.ts';

const ctx = { region: 'eu-west-1', account: '123456789012' };
const table = (name: string) => `arn:aws:dynamodb:eu-west-1:123456789012:table/${name}`;
const queue = (name: string) => `arn:aws:sqs:eu-west-1:123456789012:${name}`;
const queueUrl = (name: string) => `http://127.0.0.1:4566/123456789012/${name}`;
const ecsArn = (path: string) => `arn:aws:ecs:eu-west-1:123456789012:${path}`;

const TARGETS = {
  dynamodb: 'DynamoDB_20120810',
  sqs: 'AmazonSQS',
  ecs: 'AmazonEC2ContainerServiceV20141113',
} as const;

/** A JSON-protocol request's checks. */
function checksOf(service: IamService, operation: string, input: object) {
  const headers = { 'x-amz-target': `${TARGETS[service]}.${operation}` };
  return authorizationRequests(service, headers, JSON.stringify(input), ctx);
}

/** A query-protocol (form-encoded) SQS request's checks. */
function queryChecksOf(params: Record<string, string>, path = '/') {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  return authorizationRequests('sqs', headers, new URLSearchParams(params).toString(), { ...ctx, path });
}

describe('authorizationRequests: DynamoDB', () => {
  it('authorizes an item operation on its table', () => {
    // Act
    const request = checksOf('dynamodb', 'PutItem', { TableName: 'items', Item: {} });
    // Assess
    expect(request).toEqual({
      operation: 'PutItem',
      checks: [{ action: 'dynamodb:PutItem', resource: table('items') }],
    });
  });

  it('takes a table ARN given as TableName as it is', () => {
    // Prepare
    const arn = 'arn:aws:dynamodb:us-west-2:999999999999:table/elsewhere';
    // Act
    const { checks } = checksOf('dynamodb', 'GetItem', { TableName: arn, Key: {} });
    // Assess
    expect(checks).toEqual([{ action: 'dynamodb:GetItem', resource: arn }]);
  });

  it.each(['BatchWriteItem', 'BatchGetItem'])('authorizes %s once on every table it names', (operation) => {
    // Act
    const { checks } = checksOf('dynamodb', operation, { RequestItems: { a: [], b: [] } });
    // Assess
    expect(checks).toEqual([
      { action: `dynamodb:${operation}`, resource: table('a') },
      { action: `dynamodb:${operation}`, resource: table('b') },
    ]);
  });

  it('authorizes each item of a TransactWriteItems with its item action, once per (action, table)', () => {
    // Prepare
    const input = {
      TransactItems: [
        { Put: { TableName: 'a', Item: {} } },
        { Update: { TableName: 'a', Key: {} } },
        { Delete: { TableName: 'b', Key: {} } },
        { ConditionCheck: { TableName: 'b', Key: {} } },
        { Put: { TableName: 'a', Item: {} } },
      ],
    };
    // Act
    const { checks } = checksOf('dynamodb', 'TransactWriteItems', input);
    // Assess
    expect(checks).toEqual([
      { action: 'dynamodb:PutItem', resource: table('a') },
      { action: 'dynamodb:UpdateItem', resource: table('a') },
      { action: 'dynamodb:DeleteItem', resource: table('b') },
      { action: 'dynamodb:ConditionCheckItem', resource: table('b') },
    ]);
  });

  it('authorizes a TransactGetItems as GetItem on each table', () => {
    // Act
    const { checks } = checksOf('dynamodb', 'TransactGetItems', {
      TransactItems: [{ Get: { TableName: 'a', Key: {} } }, { Get: { TableName: 'b', Key: {} } }],
    });
    // Assess
    expect(checks).toEqual([
      { action: 'dynamodb:GetItem', resource: table('a') },
      { action: 'dynamodb:GetItem', resource: table('b') },
    ]);
  });

  it('refuses a write inside a TransactGetItems', () => {
    // Act
    const mapping = () =>
      checksOf('dynamodb', 'TransactGetItems', { TransactItems: [{ Put: { TableName: 'a' } }] });
    // Assess
    expect(mapping).toThrow(MalformedRequestError);
  });

  it.each([
    ['Query', { TableName: 't', IndexName: 'byDate' }, `${table('t')}/index/byDate`],
    ['Scan', { TableName: 't', IndexName: 'byDate' }, `${table('t')}/index/byDate`],
    ['Query', { TableName: 't' }, table('t')],
  ])('authorizes a %s on the index it reads, or its table', (operation, input, resource) => {
    // Act
    const { checks } = checksOf('dynamodb', operation, input);
    // Assess
    expect(checks).toEqual([{ action: `dynamodb:${operation}`, resource }]);
  });

  it('authorizes an operation on no table on every resource', () => {
    // Act
    const { checks } = checksOf('dynamodb', 'ListTables', {});
    // Assess
    expect(checks).toEqual([{ action: 'dynamodb:ListTables', resource: '*' }]);
  });

  it('authorizes tagging on the ResourceArn', () => {
    // Act
    const { checks } = checksOf('dynamodb', 'TagResource', { ResourceArn: table('t'), Tags: [] });
    // Assess
    expect(checks).toEqual([{ action: 'dynamodb:TagResource', resource: table('t') }]);
  });

  it('refuses an operation it does not know, naming it, rather than let it through', () => {
    // Act
    const mapping = () => checksOf('dynamodb', 'ExecuteStatement', { Statement: 'SELECT * FROM t' });
    // Assess
    expect(mapping).toThrow(UnsupportedOperationError);
    expect(mapping).toThrow(/ExecuteStatement/);
    expect(() => mapping()).toThrow(expect.objectContaining({ code: 'IAM_UNSUPPORTED_OPERATION' }));
  });

  it('refuses a request for another service', () => {
    // Act
    const mapping = () =>
      authorizationRequests('dynamodb', { 'x-amz-target': 'DynamoDBStreams_20120810.GetRecords' }, '{}', ctx);
    // Assess
    expect(mapping).toThrow(UnsupportedOperationError);
  });

  it.each([
    ['a body that is not JSON', 'PutItem', '{"TableName":'],
    ['an item operation without TableName', 'PutItem', '{"Item":{}}'],
    ['a batch without RequestItems', 'BatchWriteItem', '{}'],
  ])('refuses %s as malformed', (_, operation, body) => {
    // Act
    const mapping = () =>
      authorizationRequests('dynamodb', { 'x-amz-target': `DynamoDB_20120810.${operation}` }, body, ctx);
    // Assess
    expect(mapping).toThrow(expect.objectContaining({ code: 'IAM_MALFORMED_REQUEST' }));
  });
});

describe('authorizationRequests: SQS', () => {
  it.each([
    ['SendMessageBatch', 'sqs:SendMessage'],
    ['DeleteMessageBatch', 'sqs:DeleteMessage'],
    ['ChangeMessageVisibilityBatch', 'sqs:ChangeMessageVisibility'],
    ['ReceiveMessage', 'sqs:ReceiveMessage'],
  ])('authorizes %s (JSON protocol) as %s on the queue its QueueUrl names', (operation, action) => {
    // Act
    const { checks } = checksOf('sqs', operation, { QueueUrl: queueUrl('ingest'), Entries: [] });
    // Assess
    expect(checks).toEqual([{ action, resource: queue('ingest') }]);
  });

  it('reads the queue from the last segment of the QueueUrl, whatever its host', () => {
    // Prepare
    const url = 'http://sqs.eu-west-1.localhost.localstack.cloud:4566/000000000000/jobs.fifo';
    // Act
    const { checks } = checksOf('sqs', 'SendMessage', { QueueUrl: url, MessageBody: 'x' });
    // Assess
    expect(checks).toEqual([{ action: 'sqs:SendMessage', resource: queue('jobs.fifo') }]);
  });

  it('authorizes a query-protocol request from its form parameters', () => {
    // Act
    const request = queryChecksOf({
      Action: 'DeleteMessageBatch',
      QueueUrl: queueUrl('ingest'),
      Version: '2012-11-05',
    });
    // Assess
    expect(request).toEqual({
      operation: 'DeleteMessageBatch',
      checks: [{ action: 'sqs:DeleteMessage', resource: queue('ingest') }],
    });
  });

  it('takes the queue of a query-protocol request posted to the queue URL itself', () => {
    // Act
    const { checks } = queryChecksOf({ Action: 'SendMessage', MessageBody: 'x' }, '/123456789012/ingest');
    // Assess
    expect(checks).toEqual([{ action: 'sqs:SendMessage', resource: queue('ingest') }]);
  });

  it('authorizes CreateQueue and GetQueueUrl on the queue they name', () => {
    // Act
    const created = checksOf('sqs', 'CreateQueue', { QueueName: 'new' });
    const found = checksOf('sqs', 'GetQueueUrl', {
      QueueName: 'theirs',
      QueueOwnerAWSAccountId: '111111111111',
    });
    // Assess
    expect(created.checks).toEqual([{ action: 'sqs:CreateQueue', resource: queue('new') }]);
    expect(found.checks).toEqual([
      { action: 'sqs:GetQueueUrl', resource: 'arn:aws:sqs:eu-west-1:111111111111:theirs' },
    ]);
  });

  it('authorizes ListQueues on every resource', () => {
    // Act
    const { checks } = checksOf('sqs', 'ListQueues', {});
    // Assess
    expect(checks).toEqual([{ action: 'sqs:ListQueues', resource: '*' }]);
  });

  it('refuses an SQS operation it does not know, and a query request without Action', () => {
    // Act
    const unknown = () => checksOf('sqs', 'CancelMessageMoveTask', { TaskHandle: 'x' });
    const noAction = () => queryChecksOf({ QueueUrl: queueUrl('ingest') });
    // Assess
    expect(unknown).toThrow(UnsupportedOperationError);
    expect(noAction).toThrow(UnsupportedOperationError);
  });

  it('refuses a queue operation without a QueueUrl', () => {
    // Act
    const mapping = () => checksOf('sqs', 'SendMessage', { MessageBody: 'x' });
    // Assess
    expect(mapping).toThrow(MalformedRequestError);
  });
});

describe('authorizationRequests: ECS', () => {
  it('authorizes DescribeServices on each service of the cluster, with the ecs:cluster condition key', () => {
    // Prepare
    const full = ecsArn('service/workers/other');
    // Act
    const { checks } = checksOf('ecs', 'DescribeServices', { cluster: 'workers', services: ['gpu', full] });
    // Assess
    const context = { 'ecs:cluster': ecsArn('cluster/workers') };
    expect(checks).toEqual([
      { action: 'ecs:DescribeServices', resource: ecsArn('service/workers/gpu'), context },
      { action: 'ecs:DescribeServices', resource: full, context },
    ]);
  });

  it('reads a cluster given as an ARN, and ECS’s default cluster when none is given', () => {
    // Act
    const named = checksOf('ecs', 'UpdateService', { cluster: ecsArn('cluster/workers'), service: 'gpu' });
    const defaulted = checksOf('ecs', 'UpdateService', { service: 'gpu', desiredCount: 1 });
    // Assess
    expect(named.checks).toEqual([
      {
        action: 'ecs:UpdateService',
        resource: ecsArn('service/workers/gpu'),
        context: { 'ecs:cluster': ecsArn('cluster/workers') },
      },
    ]);
    expect(defaulted.checks[0]?.resource).toBe(ecsArn('service/default/gpu'));
  });

  it('authorizes UpdateTaskProtection on each task', () => {
    // Act
    const { checks } = checksOf('ecs', 'UpdateTaskProtection', {
      cluster: 'workers',
      tasks: ['0123abcd', ecsArn('task/workers/4567ef01')],
      protectionEnabled: true,
    });
    // Assess
    expect(checks.map((c) => [c.action, c.resource])).toEqual([
      ['ecs:UpdateTaskProtection', ecsArn('task/workers/0123abcd')],
      ['ecs:UpdateTaskProtection', ecsArn('task/workers/4567ef01')],
    ]);
  });

  it('refuses DescribeServices without services, and operations it does not know', () => {
    // Act
    const noServices = () => checksOf('ecs', 'DescribeServices', { cluster: 'workers' });
    const unknown = () => checksOf('ecs', 'RunTask', { cluster: 'workers' });
    // Assess
    expect(noServices).toThrow(MalformedRequestError);
    expect(unknown).toThrow(UnsupportedOperationError);
  });
});

describe('supported operations', () => {
  /** A body that names a resource of every kind any operation reads. */
  const EVERYTHING = {
    TableName: 't',
    ResourceArn: table('t'),
    RequestItems: { t: [] },
    QueueUrl: queueUrl('q'),
    QueueName: 'q',
    SourceArn: queue('q'),
    cluster: 'c',
    services: ['s'],
    service: 's',
    tasks: ['task1'],
  };
  const TRANSACT_ITEMS = {
    TransactGetItems: [{ Get: { TableName: 't' } }],
    TransactWriteItems: [{ Put: { TableName: 't' } }],
  } as Record<string, unknown>;
  const operations = (['dynamodb', 'sqs', 'ecs'] as const).flatMap((service) =>
    supportedOperations(service).map((operation) => [service, operation] as const),
  );

  it.each(operations)(
    '%s %s maps to an IAM action and resource type IAM knows',
    async (service, operation) => {
      // Prepare
      const { checks } = checksOf(service, operation, {
        ...EVERYTHING,
        TransactItems: TRANSACT_ITEMS[operation],
      });
      // Act
      const results = await Promise.all(
        checks.map((check) =>
          runSimulation(
            {
              request: {
                principal: 'arn:aws:iam::123456789012:role/r',
                action: check.action,
                resource: { resource: check.resource, accountId: '123456789012' },
                contextVariables: { ...check.context },
              },
              identityPolicies: [
                {
                  name: 'all',
                  policy: {
                    Version: '2012-10-17',
                    Statement: { Effect: 'Allow', Action: '*', Resource: '*' },
                  },
                },
              ],
              serviceControlPolicies: [],
              resourceControlPolicies: [],
            },
            {},
          ),
        ),
      );
      // Assess
      expect(checks.length).toBeGreaterThan(0);
      const outcomes = results.map((r) => (r.resultType === 'error' ? r.errors.message : r.overallResult));
      expect(outcomes).toEqual(checks.map(() => 'Allowed'));
    },
  );
});

describe('requestOperation', () => {
  it('reads the operation from X-Amz-Target, or the query protocol’s Action', () => {
    // Act
    const json = requestOperation('sqs', { 'x-amz-target': 'AmazonSQS.GetQueueUrl' }, '{}');
    const query = requestOperation('sqs', {}, 'Action=ListQueues&Version=2012-11-05');
    const none = requestOperation('dynamodb', {}, '');
    // Assess
    expect([json, query, none]).toEqual(['GetQueueUrl', 'ListQueues', '']);
  });
});
