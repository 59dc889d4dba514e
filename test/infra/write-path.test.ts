import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { WritePath } from '../../infra/constructs/write-path.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import {
  actionsOn,
  arnOf,
  logicalIdOf,
  renderJoin,
  type Statement,
  statementsOfRole,
  tempOutdir,
  testContext,
  type WritePathFixture,
  writePathFixture,
} from './support.ts';

// One synth of the construct with its defaults, shared by every test in the file.
const outdir = tempOutdir();
let fixture: WritePathFixture;
let template: Template;
let ids: {
  table: string;
  queue: string;
  dlq: string;
  role: string;
  logGroup: string;
  producer: string;
  reader: string;
};

beforeAll(() => {
  fixture = writePathFixture(undefined, outdir);
  const producer = new Role(fixture.stack, 'Producer', {
    assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
  });
  fixture.writePath.grantSendToIngest(producer);
  const reader = new Role(fixture.stack, 'Reader', {
    assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
  });
  fixture.writePath.grantReadItems(reader);
  template = Template.fromStack(fixture.stack);
  const { writePath } = fixture;
  ids = {
    table: logicalIdOf(writePath.table),
    queue: logicalIdOf(writePath.queue),
    dlq: logicalIdOf(writePath.deadLetterQueue),
    role: logicalIdOf(writePath.batchWriter.role as Role),
    logGroup: logicalIdOf(writePath.logGroup),
    producer: logicalIdOf(producer),
    reader: logicalIdOf(reader),
  };
});

describe('table', () => {
  it('is on-demand with point-in-time recovery and encryption at rest', () => {
    // Prepare
    const expected = {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // SSEEnabled without a key: the AWS-managed aws/dynamodb KMS key.
      SSESpecification: { SSEEnabled: true },
    };
    // Act
    const tables = template.findResources('AWS::DynamoDB::Table');
    // Assess
    expect(Object.keys(tables)).toEqual([ids.table]);
    template.hasResourceProperties('AWS::DynamoDB::Table', expected);
  });

  it('keys items by string pk and sk from the settings', () => {
    // Prepare
    const { partitionKey, sortKey } = writePathSettings.table;
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: partitionKey, AttributeType: 'S' },
          { AttributeName: sortKey, AttributeType: 'S' },
        ]),
      });
    // Assess
    expect(act).not.toThrow();
  });

  it('expires tombstones through the _expiresAt TTL attribute', () => {
    // Prepare
    const expected = { AttributeName: writePathSettings.table.ttlAttribute, Enabled: true };
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: expected });
    // Assess
    expect(expected.AttributeName).toBe('_expiresAt');
    expect(act).not.toThrow();
  });

  it('is retained when it leaves the stack and protected from deletion', () => {
    // Prepare
    const expected = {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    };
    // Act
    const act = () => template.hasResource('AWS::DynamoDB::Table', expected);
    // Assess
    expect(act).not.toThrow();
  });
});

describe('queues', () => {
  it('encrypts both queues at rest and keeps messages 14 days', () => {
    // Prepare
    const expected = { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 };
    // Act
    const queues = template.findResources('AWS::SQS::Queue', { Properties: Match.objectLike(expected) });
    // Assess
    expect(Object.keys(queues).sort()).toEqual([ids.queue, ids.dlq].sort());
  });

  it.each([
    ['ingest queue', () => ids.queue],
    ['DLQ', () => ids.dlq],
  ])('denies requests to the %s that do not use TLS', (_name, queueId) => {
    // Prepare
    const denyInsecure = {
      Effect: 'Deny',
      Action: 'sqs:*',
      Principal: { AWS: '*' },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Resource: arnOf(queueId()),
    };
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId() }],
        PolicyDocument: { Statement: Match.arrayWith([denyInsecure]) },
      });
    // Assess
    expect(act).not.toThrow();
  });

  it('moves a message to the DLQ after maxReceiveCount receives', () => {
    // Prepare
    const expected = {
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(ids.dlq),
        maxReceiveCount: writePathSettings.queue.maxReceiveCount,
      },
    };
    // Act
    const queue = template.toJSON().Resources[ids.queue];
    // Assess
    expect(queue.Properties).toMatchObject(expected);
  });

  it('hides a received message for at least 6 × the function timeout', () => {
    // Prepare
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    // Act
    const visibility = template.toJSON().Resources[ids.queue].Properties.VisibilityTimeout as number;
    // Assess
    expect(fn?.Properties.Timeout).toBe(writePathSettings.function.timeoutSeconds);
    expect(visibility).toBe(writePathSettings.queue.visibilityTimeoutSeconds);
    expect(visibility).toBeGreaterThanOrEqual(6 * fn?.Properties.Timeout);
  });
});

describe('batch-writer function', () => {
  it('runs on Node.js 24 on ARM64 with the settings timeout and memory', () => {
    // Prepare
    const expected = {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: writePathSettings.function.timeoutSeconds,
      MemorySize: writePathSettings.function.memoryMiB,
    };
    // Act
    const act = () => template.hasResourceProperties('AWS::Lambda::Function', expected);
    // Assess
    expect(act).not.toThrow();
  });

  it('routes the logical table "items" to the physical table', () => {
    // Prepare
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    // Act
    const routes = JSON.parse(renderJoin(fn?.Properties.Environment.Variables.TABLE_ROUTES));
    // Assess
    expect(routes).toEqual({
      items: {
        tableName: `<Ref:${ids.table}>`,
        partitionKey: 'pk',
        sortKey: 'sk',
        keyType: 'S',
        ops: ['put', 'delete'],
      },
    });
  });

  it('gets the DLQ URL, batcher limits and Powertools settings from its environment', () => {
    // Prepare
    const expected = {
      DLQ_URL: { Ref: ids.dlq },
      MAX_CONCURRENCY: String(writePathSettings.function.maxConcurrency),
      DEADLINE_MARGIN_MS: String(writePathSettings.function.deadlineMarginMs),
      POWERTOOLS_SERVICE_NAME: 'batch-writer',
      POWERTOOLS_METRICS_NAMESPACE: 'BatchWritePipeline',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike(expected) },
      });
    // Assess
    expect(act).not.toThrow();
  });

  it('logs to its own log group with a retention', () => {
    // Prepare
    const expected = { LoggingConfig: { LogGroup: { Ref: ids.logGroup } } };
    // Act
    const act = () => template.hasResourceProperties('AWS::Lambda::Function', expected);
    // Assess
    expect(act).not.toThrow();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });
});

describe('event source', () => {
  it('reports batch item failures with the settings batch size, window and concurrency', () => {
    // Prepare
    const { batchSize, maxBatchingWindowSeconds, maxConcurrency } = writePathSettings.eventSource;
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(ids.queue),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: batchSize,
        MaximumBatchingWindowInSeconds: maxBatchingWindowSeconds,
        ScalingConfig: { MaximumConcurrency: maxConcurrency },
      });
    // Assess
    expect(act).not.toThrow();
  });
});

describe('least privilege', () => {
  let statements: Statement[];
  beforeAll(() => {
    statements = statementsOfRole(template, ids.role);
  });

  it('lets the function write the table only with what the WriteBatcher sends: BatchWriteItem and PutItem', () => {
    // Act
    const actions = actionsOn(statements, arnOf(ids.table));
    // Assess
    expect(actions).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
  });

  it('grants the same writes on each data table a snapshot may route to, and nothing on any other', () => {
    // Prepare
    const stack = new Stack(new App({ context: testContext }), 'Data');
    const orders = Table.fromTableName(stack, 'Orders', 'orders-table');
    const audit = Table.fromTableName(stack, 'Audit', 'audit-table');
    // Act
    const writePath = new WritePath(stack, 'WritePath', { dataTables: [orders, audit] });
    const local = Template.fromStack(stack);
    const role = statementsOfRole(local, logicalIdOf(writePath.batchWriter.role as Role));
    const onTable = (name: string) =>
      role
        .filter((st) => JSON.stringify(st.Resource).includes(`:table/${name}`))
        .flatMap((st) => [st.Action].flat())
        .sort();
    const tables = role.filter((st) => JSON.stringify(st.Action).includes('dynamodb:'));
    // Assess
    expect(writePath.grantedTables).toEqual([writePath.table, orders, audit]);
    expect(stack.resolve(writePath.grantedTableNames)).toEqual([
      { Ref: logicalIdOf(writePath.table) },
      'orders-table',
      'audit-table',
    ]);
    expect(onTable('orders-table')).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
    expect(onTable('audit-table')).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
    expect(tables.flatMap((st) => [st.Resource].flat())).toHaveLength(3);
  });

  it('lets the function only send to the DLQ', () => {
    // Act
    const actions = actionsOn(statements, arnOf(ids.dlq));
    // Assess
    expect(actions).toEqual(['sqs:SendMessage']);
  });

  it('lets the function only consume the ingest queue, with exactly what Lambda pollers call', () => {
    // Act
    const actions = actionsOn(statements, arnOf(ids.queue));
    // Assess
    expect(actions).toEqual(['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
  });

  it('grants nothing else: only its log group besides, no wildcards, no managed policies', () => {
    // Prepare
    const known = [ids.table, ids.dlq, ids.queue, ids.logGroup].map((id) => JSON.stringify(arnOf(id)));
    // Act
    const others = statements.filter((s) => !known.includes(JSON.stringify(s.Resource)));
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    const role = template.toJSON().Resources[ids.role];
    // Assess
    expect(others).toEqual([]);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(actionsOn(statements, arnOf(ids.logGroup))).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('lets a producer granted by grantSendToIngest send to the ingest queue only', () => {
    // Act
    const producer = statementsOfRole(template, ids.producer);
    // Assess
    expect(producer.map((s) => s.Resource)).toEqual([arnOf(ids.queue)]);
    expect(actionsOn(producer, arnOf(ids.queue))).toContain('sqs:SendMessage');
  });

  it('lets a reader granted by grantReadItems read the table without writing it', () => {
    // Act
    const reader = statementsOfRole(template, ids.reader);
    const actions = reader.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    // Assess
    expect(reader.flatMap((s) => s.Resource)).toContainEqual(arnOf(ids.table));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(actions.filter((a) => /Put|Delete|Write|Update/.test(a))).toEqual([]);
  });
});

describe('alarms', () => {
  it('alarms as soon as one message is visible in the DLQ', () => {
    // Prepare
    const expected = {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    };
    // Act
    const act = () => template.hasResourceProperties('AWS::CloudWatch::Alarm', expected);
    // Assess
    expect(act).not.toThrow();
  });

  it('alarms when the oldest ingest message is 5 minutes old', () => {
    // Prepare
    const expected = {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
      Threshold: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    };
    // Act
    const act = () => template.hasResourceProperties('AWS::CloudWatch::Alarm', expected);
    // Assess
    expect(act).not.toThrow();
  });
});
