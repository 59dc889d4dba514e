import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { RolloutController } from '../../infra/constructs/rollout-controller.ts';
import { Snapshots } from '../../infra/constructs/snapshots.ts';
import { addNagChecks } from '../../infra/nag.ts';
import { arnOf, logicalIdOf, renderJoin, statementsOfRole, tempOutdir, testContext } from './support.ts';

// One synth of the controller beside a Snapshots construct and two alarms (a third allowed later),
// shared by the tests; cdk-nag runs on it.
const outdir = tempOutdir();
let app: App;
let controller: RolloutController;
let template: Template;
let ids: {
  table: string;
  role: string;
  fn: string;
  rule: string;
  errors: string;
  late: string;
  logs: string;
};

function alarm(stack: Stack, id: string): Alarm {
  return new Alarm(stack, id, {
    metric: new Metric({ namespace: 'Test', metricName: id }),
    threshold: 1,
    evaluationPeriods: 1,
  });
}

beforeAll(() => {
  app = new App({ context: testContext, outdir });
  addNagChecks(app);
  const stack = new Stack(app, 'Test');
  const snapshots = new Snapshots(stack, 'Snapshots');
  const errors = alarm(stack, 'Errors');
  const late = alarm(stack, 'Late');
  controller = new RolloutController(stack, 'Rollouts', { snapshots, alarms: [errors] });
  controller.allowAlarms(late, errors);
  template = Template.fromStack(stack);
  ids = {
    table: logicalIdOf(snapshots.table),
    role: logicalIdOf(controller.role as Role),
    fn: logicalIdOf(controller.function),
    rule: logicalIdOf(controller.rule),
    errors: logicalIdOf(errors),
    late: logicalIdOf(late),
    logs: logicalIdOf(controller.logGroup),
  };
});

describe('rollout controller', () => {
  it('is ticked every minute by an EventBridge rule, without retries of a failed tick', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: arnOf(ids.fn),
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ids.fn },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('may be invoked by that rule alone', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: arnOf(ids.fn),
      Principal: 'events.amazonaws.com',
      SourceArn: arnOf(ids.rule),
    });
  });

  it('is told its table, the snapshots it ticks, the alarms it may read and the unknown-alarm limit', () => {
    // Act
    const variables = template.toJSON().Resources[ids.fn].Properties.Environment.Variables;
    // Assess
    expect(variables).toMatchObject({
      SNAPSHOTS_TABLE: { Ref: ids.table },
      SNAPSHOT_NAMES: '["pipeline"]',
      UNKNOWN_ALARMS_ROLLBACK_MS: '300000',
      POWERTOOLS_SERVICE_NAME: 'rollout-controller',
      POWERTOOLS_METRICS_NAMESPACE: 'BatchWritePipeline',
    });
    expect(JSON.parse(renderJoin(variables.ROLLOUT_ALARMS))).toEqual([
      `<Ref:${ids.errors}>`,
      `<Ref:${ids.late}>`,
    ]);
  });

  it('may get and flip the pointer, describe exactly the allowed alarms, and write its logs: nothing else', () => {
    // Act
    const statements = statementsOfRole(template, ids.role).map((s) => ({
      actions: [s.Action].flat().sort(),
      resources: [s.Resource].flat(),
    }));
    // Assess
    expect(statements).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [arnOf(ids.logs)] },
      {
        actions: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [arnOf(ids.table)],
      },
      { actions: ['cloudwatch:DescribeAlarms'], resources: [arnOf(ids.errors), arnOf(ids.late)] },
    ]);
  });

  it('raises an alarm when 3 ticks fail within 5 minutes', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
      Period: 300,
      Statistic: 'Sum',
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('synthesises with no unacknowledged cdk-nag findings', () => {
    // Act
    const synth = () => app.synth();
    // Assess
    expect(synth).not.toThrow();
  });

  it('grants no DescribeAlarms at all when no alarm is allowed', () => {
    // Prepare
    const stack = new Stack(new App({ context: testContext }), 'Bare');
    const bare = new RolloutController(stack, 'Rollouts', { snapshots: new Snapshots(stack, 'Snapshots') });
    // Act
    const local = Template.fromStack(stack);
    const actions = statementsOfRole(local, logicalIdOf(bare.role as Role)).flatMap((s) => [s.Action].flat());
    // Assess
    expect(actions).not.toContain('cloudwatch:DescribeAlarms');
    expect(
      local.toJSON().Resources[logicalIdOf(bare.function)].Properties.Environment.Variables.ROLLOUT_ALARMS,
    ).toBe('[]');
  });

  it.each([
    [
      'a 30-second schedule',
      { schedule: Duration.seconds(30) },
      /schedule is 30 seconds; use whole minutes from 1 to 60/,
    ],
    ['a 90-second schedule', { schedule: Duration.seconds(90) }, /schedule is 1 minute 30 seconds/],
    ['a 2-hour schedule', { schedule: Duration.hours(2) }, /schedule is 2 hours/],
    ['no snapshot names', { snapshotNames: [] }, /snapshotNames is \[\]/],
    ['a bad snapshot name', { snapshotNames: ['bad name'] }, /snapshotNames is \["bad name"\]/],
  ])('refuses %s', (_, props, message) => {
    // Prepare
    const stack = new Stack(new App({ context: testContext }), 'Bad');
    const snapshots = new Snapshots(stack, 'Snapshots');
    // Act
    const create = () => new RolloutController(stack, 'Rollouts', { snapshots, ...props });
    // Assess
    expect(create).toThrow(
      expect.objectContaining({ code: 'INVALID_PROP', message: expect.stringMatching(message) }),
    );
  });
});
