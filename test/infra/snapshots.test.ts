import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidPropError } from '../../infra/constructs/errors.ts';
import { Snapshots } from '../../infra/constructs/snapshots.ts';
import { addNagChecks } from '../../infra/nag.ts';
import { SnapshotsStack } from '../../infra/stacks/snapshots-stack.ts';
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
  it('runs on Node.js 24, ARM64, with one reserved execution', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: Runtime.NODEJS_24_X.name,
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
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

  it('takes batches of up to 10 changes and reports partial failures', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(ids.queue),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('may only read and write items of its table, not scan or delete it', () => {
    // Act
    const actions = actionsOn(statementsOfRole(template, ids.role), arnOf(ids.table));
    // Assess
    expect(actions).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
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
  it('grantRead allows GetItem and Query on the table only', () => {
    // Act
    const actions = actionsOn(statementsOfRole(template, ids.reader), arnOf(ids.table));
    // Assess
    expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('bindReader hands a function the table name and snapshot name', () => {
    // Prepare
    const local = new Stack(new App({ context: testContext }), 'Reader');
    const construct = new Snapshots(local, 'Snapshots', { snapshotName: 'routing' });
    const fn = new LambdaFunction(local, 'Worker', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('export const handler = async () => {};'),
    });
    // Act
    construct.bindReader(fn);
    // Assess
    Template.fromStack(local).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: { SNAPSHOTS_TABLE: { Ref: logicalIdOf(construct.table) }, SNAPSHOT_NAME: 'routing' },
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

  it('the stack outputs the table and queue URLs', () => {
    // Prepare
    const local = new SnapshotsStack(new App({ context: testContext }), 'Snapshots');
    // Act
    const outputs = Template.fromStack(local).findOutputs('*');
    // Assess
    expect(Object.keys(outputs).sort()).toEqual([
      'ConfigChangesDeadLetterQueueUrl',
      'ConfigChangesQueueUrl',
      'SnapshotsTableName',
    ]);
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

  it('rejects a reserved concurrency below 1 and removes it on null', () => {
    // Prepare
    const local = new Stack(new App({ context: testContext }), 'Free');
    // Act
    const build = () => new Snapshots(local, 'Zero', { reservedConcurrency: 0 });
    new Snapshots(local, 'Unreserved', { reservedConcurrency: null });
    // Assess
    expect(build).toThrow(/reservedConcurrency is 0/);
    Template.fromStack(local).resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { ReservedConcurrentExecutions: Match.absent() },
      1,
    );
  });
});
