import { Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IAlarm, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROLLOUT_CONTROLLER_SERVICE } from '../../shared/pipeline/metric-names.ts';
import { rolloutLimits, SNAPSHOT_NAME_PATTERN } from '../../shared/snapshots/index.ts';
import { InvalidPropError } from './errors.ts';
import { PipelineFunction } from './pipeline-function.ts';
import type { Snapshots } from './snapshots.ts';

export type RolloutControllerLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface RolloutControllerProps {
  /** The snapshots whose automated rollouts it moves. */
  readonly snapshots: Snapshots;
  /**
   * The alarms a rollout may name (`--alarm`): the controller may call DescribeAlarms on these
   * alone; a rollout naming any other holds and, after `unknownAlarmsRollback`, rolls back. More can
   * be added with `allowAlarms`. Metric alarms only: reading a composite alarm needs DescribeAlarms on `*`.
   * @default none
   */
  readonly alarms?: readonly IAlarm[];
  /** Snapshot names it ticks. @default [snapshots.snapshotName] */
  readonly snapshotNames?: readonly string[];
  /** Time between ticks (1 to 60 minutes); steps are never shorter than it. @default Duration.minutes(1) */
  readonly schedule?: Duration;
  /** Roll back once a rollout's alarms have been unknown (missing, unreadable) this long. @default Duration.minutes(5) */
  readonly unknownAlarmsRollback?: Duration;
  /** `POWERTOOLS_METRICS_NAMESPACE`. @default 'BatchWritePipeline' */
  readonly metricsNamespace?: string;
  /** `POWERTOOLS_LOG_LEVEL`. @default 'INFO' */
  readonly logLevel?: RolloutControllerLogLevel;
  /** Retention of its log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The rollout controller: a Lambda function an EventBridge rule invokes every minute. Each tick
 * reads the pointer of every named snapshot, asks CloudWatch (DescribeAlarms, exactly the alarms
 * the rollout names) whether any is in ALARM, and steps, promotes or rolls back the candidate with
 * the same conditional flip a person's promote uses, so a concurrent manual change wins.
 *
 * @example
 * new RolloutController(this, 'RolloutController', { snapshots, alarms: writePath.alarms });
 */
export class RolloutController extends Construct {
  readonly function: PipelineFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly rule: Rule;
  /** Fires when 3 or more ticks fail within 5 minutes: rollouts then stand still (and are not rolled back). */
  readonly errorsAlarm: Alarm;
  /** `POWERTOOLS_METRICS_NAMESPACE` of the function. */
  readonly metricsNamespace: string;
  private readonly alarms: IAlarm[] = [];
  private readonly readAlarms: PolicyStatement;

  constructor(scope: Construct, id: string, props: RolloutControllerProps) {
    super(scope, id);
    const { snapshots } = props;
    const names = props.snapshotNames ?? [snapshots.snapshotName];
    const bad = names.find((name) => !SNAPSHOT_NAME_PATTERN.test(name));
    if (names.length === 0 || bad !== undefined) {
      throw new InvalidPropError(
        'RolloutController',
        'snapshotNames',
        JSON.stringify(names),
        'name 1 or more snapshots of 1-64 of A-Z a-z 0-9 _ . -',
      );
    }
    const schedule = props.schedule ?? Duration.minutes(1);
    if (
      schedule.toMilliseconds() < rolloutLimits.minEveryMs ||
      schedule.toMinutes({ integral: false }) > 60 ||
      schedule.toSeconds() % 60 !== 0
    ) {
      throw new InvalidPropError(
        'RolloutController',
        'schedule',
        schedule.toHumanString(),
        'use whole minutes from 1 to 60',
      );
    }
    const unknownAlarmsRollback = props.unknownAlarmsRollback ?? Duration.minutes(5);
    this.metricsNamespace = props.metricsNamespace ?? 'BatchWritePipeline';

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    // An explicit role: the default one's AWS managed policy would let it write to any log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Rollout controller: steps, promotes and rolls back automated config snapshot rollouts',
    });
    this.function = new PipelineFunction(this, 'Function', {
      description: 'Moves automated config snapshot rollouts on; rolls back when a named alarm is in ALARM',
      handlerFile: 'functions/rollout-controller/handler.ts',
      serviceName: ROLLOUT_CONTROLLER_SERVICE,
      metricsNamespace: this.metricsNamespace,
      logLevel: props.logLevel,
      timeout: Duration.seconds(30),
      memorySize: 256,
      role: this.role,
      logGroup: this.logGroup,
      invokedBy: 'schedule',
      environment: {
        SNAPSHOTS_TABLE: snapshots.table.tableName,
        SNAPSHOT_NAMES: JSON.stringify(names),
        ROLLOUT_ALARMS: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.alarmNames) }),
        UNKNOWN_ALARMS_ROLLBACK_MS: String(unknownAlarmsRollback.toMilliseconds()),
      },
    });
    // A tick that fails is not retried: the next one runs a minute later from the pointer as it is then.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    this.logGroup.grantWrite(this.role);
    snapshots.grantRollout(this.role);
    // DescribeAlarms supports the alarm resource type, so the grant names exactly the allowed alarms.
    this.readAlarms = new PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: Lazy.list({ produce: () => this.alarms.map((alarm) => alarm.alarmArn) }),
    });
    this.allowAlarms(...(props.alarms ?? []));

    this.rule = new Rule(this, 'Schedule', {
      description: 'Ticks the rollout controller',
      schedule: Schedule.rate(schedule),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
    this.errorsAlarm = new Alarm(this, 'ErrorsAlarm', {
      alarmDescription:
        'Rollout controller ticks are failing: automated rollouts stand still and are not rolled back on their alarms.',
      metric: this.function.metricErrors({ period: Duration.minutes(5) }),
      threshold: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const superseded =
      'A scheduled tick carries no data: the next tick, a minute later, reads the pointer afresh, so a failed or undelivered one has nothing worth keeping. Failures show in the function Errors metric and its ErrorsAlarm';
    Validations.of(this.function).acknowledge({
      id: 'Serverless::Serverless-LambdaAsyncFailureDestination',
      reason: superseded,
    });
    Validations.of(this.rule).acknowledge({ id: 'Serverless::Serverless-EventBusDLQ', reason: superseded });
  }

  /** Lets rollouts name these alarms too: DescribeAlarms on them, and their names in `ROLLOUT_ALARMS`. */
  allowAlarms(...alarms: IAlarm[]): void {
    const first = this.alarms.length === 0 && alarms.length > 0;
    for (const alarm of alarms) if (!this.alarms.includes(alarm)) this.alarms.push(alarm);
    if (first) this.role.addToPrincipalPolicy(this.readAlarms);
  }

  /** The names of the alarms a rollout may name (tokens until deploy). */
  get alarmNames(): string[] {
    return this.alarms.map((alarm) => alarm.alarmName);
  }
}
