import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidPropError } from '../../infra/constructs/errors.ts';
import { Snapshots } from '../../infra/constructs/snapshots.ts';
import { addNagChecks } from '../../infra/nag.ts';
import { actionsOn, arnOf, logicalIdOf, statementsOfRole, tempOutdir, testContext } from './support.ts';

// One synth of the construct with its defaults (and a reader and a reader function), shared by
// every test in the file; cdk-nag runs on it.
const outdir = tempOutdir();
let app: App;
let stack: Stack;
let snapshots: Snapshots;
let template: Template;
let ids: { table: string; queue: string; dlq: string; role: string; reader: string };

beforeAll(() => {
  app = new App({ context: testContext, outdir });
  addNagChecks(app);
  stack = new Stack(app, 'Test');
  snapshots = new Snapshots(stack, 'Snapshots');
  snapshots.addGrantedTables('items-table', 'orders-table');
  snapshots.addBootstrap({ routing: { items: { tableName: 'items-table', partitionKey: 'pk' } } });
  snapshots.addBootstrap({ models: { classifier: { version: 'v1' } } });
  const reader = new Role(stack, 'Reader', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com') });
  snapshots.grantRead(reader);
  template = Template.fromStack(stack);
  ids = {
    table: logicalIdOf(snapshots.table),
    queue: logicalIdOf(snapshots.changesQueue),
    dlq: logicalIdOf(snapshots.changesDeadLetterQueue),
    role: logicalIdOf(snapshots.publisher.role as Role),
    reader: logicalIdOf(reader),
  };
});

describe('table', () => {
  it('is on-demand with point-in-time recovery and encryption at rest', () => {
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });

  it('is retained with deletion protection when the stack goes', () => {
    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });
});

describe('config-changes queue', () => {
  it('is FIFO, encrypted, and moves a change to its DLQ after 5 receives', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: arnOf(ids.dlq), maxReceiveCount: 5 },
    });
  });

  it('does not deduplicate by content, so a change sent again later still applies', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      RedrivePolicy: Match.anyValue(),
    });
  });

  it('refuses requests that do not use TLS', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ids.queue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps a change invisible for 6 × the publisher timeout while it is processed', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.anyValue(),
      VisibilityTimeout: 6 * 120,
    });
  });
});

describe('publisher', () => {
  it('runs on Node.js 24, ARM64, without reserved concurrency (the event source bounds it)', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: Runtime.NODEJS_24_X.name,
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('is told the granted tables and the bootstrap document the first version starts from', () => {
    // Act
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { DLQ_URL: { Ref: ids.dlq } } } },
      }),
    );
    const variables = fn!.Properties.Environment.Variables;
    // Assess
    expect(JSON.parse(variables.GRANTED_TABLES)).toEqual(['items-table', 'orders-table']);
    expect(JSON.parse(variables.BOOTSTRAP_CONFIG)).toEqual({
      routing: { items: { tableName: 'items-table', partitionKey: 'pk' } },
      writeOptions: {},
      models: { classifier: { version: 'v1' } },
    });
  });

  it('is told its table, snapshot name and DLQ', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SNAPSHOTS_TABLE: { Ref: ids.table },
          SNAPSHOT_NAME: 'pipeline',
          DLQ_URL: { Ref: ids.dlq },
        }),
      },
    });
  });

  it('takes batches of up to 10 changes, reports partial failures, and runs at most 2 at once', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(ids.queue),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('may only get and write items of its table, as its code path does: no Query, Scan or table deletion', () => {
    // Act
    const actions = actionsOn(statementsOfRole(template, ids.role), arnOf(ids.table));
    // Assess
    expect(actions).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('may send to the DLQ but not to any other queue', () => {
    // Act
    const sends = statementsOfRole(template, ids.role).filter((s) =>
      [s.Action].flat().includes('sqs:SendMessage'),
    );
    // Assess
    expect(sends.map((s) => s.Resource)).toEqual([arnOf(ids.dlq)]);
  });
});

describe('readers', () => {
  it('grantRead allows GetItem on the table only: all a reader sends', () => {
    // Act
    const actions = actionsOn(statementsOfRole(template, ids.reader), arnOf(ids.table));
    // Assess
    expect(actions).toEqual(['dynamodb:GetItem']);
  });

  it('bindReader hands a function the table name, snapshot name and granted tables', () => {
    // Prepare
    const local = new Stack(new App({ context: testContext }), 'Reader');
    const construct = new Snapshots(local, 'Snapshots', { snapshotName: 'routing' });
    const fn = new LambdaFunction(local, 'Worker', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('export const handler = async () => {};'),
    });
    // Act: tables declared after the binding still reach the reader.
    construct.bindReader(fn);
    construct.addGrantedTables('items-table');
    // Assess
    Template.fromStack(local).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: {
          SNAPSHOTS_TABLE: { Ref: logicalIdOf(construct.table) },
          SNAPSHOT_NAME: 'routing',
          GRANTED_TABLES: '["items-table"]',
        },
      },
    });
  });
});

describe('alarms and compliance', () => {
  it('alarms as soon as one change reaches the DLQ', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('synthesises with no unacknowledged cdk-nag findings', () => {
    // Act
    const synth = () => app.synth();
    // Assess
    expect(synth).not.toThrow();
  });
});

describe('props', () => {
  it('rejects a snapshot name that cannot be a partition key', () => {
    // Prepare
    const local = new Stack(new App({ context: testContext }), 'Bad');
    // Act
    const build = () => new Snapshots(local, 'Snapshots', { snapshotName: 'no spaces' });
    // Assess
    expect(build).toThrow(InvalidPropError);
  });

  it.each([1, 1001, 2.5])('rejects an event source maximum concurrency of %s, naming it', (value) => {
    // Act
    const build = () =>
      new Snapshots(new Stack(new App({ context: testContext }), 'Bad'), 'Snapshots', {
        maxConcurrency: value,
      });
    // Assess
    expect(build).toThrow(InvalidPropError);
    expect(build).toThrow(`Snapshots maxConcurrency is ${value}; use 2..1000`);
  });

  it('passes maxConcurrency to the event source', () => {
    // Prepare
    const local = new Stack(new App({ context: testContext }), 'Wide');
    // Act
    new Snapshots(local, 'Snapshots', { maxConcurrency: 5 });
    // Assess
    Template.fromStack(local).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });
});
