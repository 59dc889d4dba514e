import { Aws, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AdjustmentType,
  MetricAggregationType,
  ScalableTarget,
  ServiceNamespace,
  StepScalingAction,
} from 'aws-cdk-lib/aws-applicationautoscaling';
import { AutoScalingGroup } from 'aws-cdk-lib/aws-autoscaling';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { ApplicationScalingAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import {
  BlockDeviceVolume,
  EbsDeviceVolumeType,
  InstanceType,
  type IVpc,
  LaunchTemplate,
  SecurityGroup,
  SubnetType,
  UserData,
} from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  AmiHardwareType,
  AsgCapacityProvider,
  Cluster,
  ContainerImage,
  ContainerInsights,
  Ec2Service,
  Ec2TaskDefinition,
  EcsOptimizedImage,
  LogDrivers,
  NetworkMode,
} from 'aws-cdk-lib/aws-ecs';
import { type Grant, type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { CfnQueue, Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GPU_WORKER_SERVICE } from '../../shared/pipeline/inference/metric-names.ts';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import { InvalidPropError } from './errors.ts';
import { projectRoot } from './pipeline-function.ts';
import { type TraceExportProps, traceExportEnvironment } from './trace-export.ts';

const { worker: workerSettings, model: modelSettings } = inferenceSettings;

/** Root of the repository: the worker image's build context (the worker imports `shared/`). */

/**
 * What the image build sees of the repository: the Dockerfile needs the lockfile, `shared/`, the
 * worker and the model builder, nothing else (no node_modules, no cdk.out).
 */
const IMAGE_CONTEXT_EXCLUDES = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.json',
  '!shared/**',
  '!functions/gpu-worker/**',
];

/** Where the worker loads model versions from (Triton's layout: `<name>/<version>/model.onnx`). */
export interface GpuModelRepository {
  readonly bucket: IBucket;
  /** Key prefix of the repository, e.g. `models/`. @default '' */
  readonly prefix?: string;
}

export interface GpuWorkerServiceProps {
  readonly vpc: IVpc;
  /** The gpu-work queue the workers consume. Its visibility timeout must outlast `maxBatchDuration`. */
  readonly workQueue: Queue;
  /** The jobs table the workers write RUNNING/DONE/FAILED records to. */
  readonly jobsTable: ITable;
  /** GPU instance type (one task per GPU). @default g5.xlarge (1 × NVIDIA A10G, 4 vCPU, 16 GiB) */
  readonly instanceType?: InstanceType;
  /** Most GPU instances (and tasks). @default 2 */
  readonly maxInstances?: number;
  /** Memory reserved for the worker container. @default 12 288 MiB (fits a g5.xlarge next to the agent) */
  readonly memoryReservationMiB?: number;
  /** Root volume of the GPU instances (the CUDA image is several GiB). @default 100 */
  readonly rootVolumeGiB?: number;
  /**
   * Backlog (visible + in-flight gpu-work messages) per task: the service runs one task from 1
   * message, and one more per this many. @default 100
   */
  readonly messagesPerTask?: number;
  /**
   * Minutes gpu-work must be observed empty (nothing visible, nothing in flight) while tasks run
   * before the service scales to zero. @default 5
   */
  readonly scaleInAfterMinutes?: number;
  /**
   * After a scale-in, how long another one is blocked (a scale-out ends it). The idle alarm may
   * re-evaluate the minutes before the scale-in until new datapoints arrive, and repeat its action;
   * this covers SQS's worst-case metric delay (~15 minutes after a queue was inactive), so a repeat
   * never undoes the dispatcher's scale from zero. @default Duration.minutes(15)
   */
  readonly scaleInCooldown?: Duration;
  /** `MAX_BATCH`. @default inferenceSettings.worker.maxBatch (32) */
  readonly maxBatch?: number;
  /** `MAX_DELAY_MS`. @default inferenceSettings.worker.maxDelayMs (10) */
  readonly maxDelayMs?: number;
  /** Longest one inference call may take before the worker treats it as hung. @default 120 s */
  readonly maxBatchDuration?: Duration;
  /** Model name and version loaded and warmed up at start. @default inferenceSettings.model */
  readonly defaultModel?: { readonly name: string; readonly version: string };
  /** Models from S3 instead of the one baked into the image. @default the image's /opt/models */
  readonly modelRepository?: GpuModelRepository;
  /** Buckets `s3Uri` inputs may come from; none: S3 inputs fail with S3_INPUT_UNSUPPORTED. @default none */
  readonly inputBuckets?: readonly IBucket[];
  /** `POWERTOOLS_METRICS_NAMESPACE`. @default 'GpuInference' */
  readonly metricsNamespace?: string;
  /** Retention of the worker's log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * OpenTelemetry traces of the workers (a span per job attempt in its producer's trace, one per
   * inference batch linked to its jobs) to this OTLP endpoint. @default none
   */
  readonly traceExport?: TraceExportProps;
}

/**
 * The GPU workers: an ECS cluster on an Auto Scaling group of GPU instances (ECS GPU-optimised
 * Amazon Linux 2023 AMI, launch template, IMDSv2, encrypted root volume) behind a capacity
 * provider with managed scaling from zero, and an EC2 service of `gpu-worker` tasks (one GPU each)
 * that scales out in steps on the gpu-work backlog (in-flight messages included), is raised from
 * zero by the dispatcher, and scales back to zero once the queue was observed empty while it ran.
 *
 * @example
 * const service = new GpuWorkerService(this, 'Workers', { vpc, workQueue, jobsTable });
 * service.grantScaleFromZero(dispatcherRole);
 */
export class GpuWorkerService extends Construct {
  readonly cluster: Cluster;
  readonly autoScalingGroup: AutoScalingGroup;
  readonly capacityProvider: AsgCapacityProvider;
  readonly taskDefinition: Ec2TaskDefinition;
  readonly service: Ec2Service;
  readonly logGroup: LogGroup;
  /** `POWERTOOLS_METRICS_NAMESPACE` of the worker. */
  readonly metricsNamespace: string;
  /** Fires at ≥ 1 message of backlog: the scale-out alarm. */
  readonly backlogAlarm: Alarm;
  /** Fires after `scaleInAfterMinutes` of empty gpu-work seen while tasks run: the scale-in (to zero) alarm. */
  readonly idleAlarm: Alarm;

  constructor(scope: Construct, id: string, props: GpuWorkerServiceProps) {
    super(scope, id);
    this.metricsNamespace = props.metricsNamespace ?? 'GpuInference';
    const maxInstances = props.maxInstances ?? 2;
    checkInteger('maxInstances', maxInstances, 1, 100);
    const maxBatchDuration = props.maxBatchDuration ?? Duration.millis(workerSettings.maxBatchDurationMs);
    const visibility = (props.workQueue.node.defaultChild as CfnQueue).visibilityTimeout;
    if (visibility !== undefined && visibility <= maxBatchDuration.toSeconds()) {
      throw new InvalidPropError(
        'GpuWorkerService',
        'maxBatchDuration',
        maxBatchDuration.toHumanString(),
        `keep it below the gpu-work visibility timeout (${visibility} s)`,
      );
    }

    this.cluster = new Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ContainerInsights.ENABLED,
    });
    this.autoScalingGroup = this.createAutoScalingGroup(props, maxInstances, this.cluster);
    this.capacityProvider = new AsgCapacityProvider(this, 'CapacityProvider', {
      autoScalingGroup: this.autoScalingGroup,
      enableManagedScaling: true,
      // A running batch keeps its instance: ECS only scales in instances without tasks.
      enableManagedTerminationProtection: true,
      targetCapacityPercent: 100,
      minimumScalingStepSize: 1,
    });
    this.cluster.addAsgCapacityProvider(this.capacityProvider);

    this.logGroup = new LogGroup(this, 'WorkerLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    this.taskDefinition = this.createTaskDefinition(props, maxBatchDuration);
    const securityGroup = new SecurityGroup(this, 'WorkerSecurityGroup', {
      vpc: props.vpc,
      description: 'GPU workers: no inbound, HTTPS out to AWS endpoints',
      allowAllOutbound: true,
    });
    this.service = new Ec2Service(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      // No DesiredCount in the template: a deploy (a new image) never resets the running count. A new
      // service starts with CloudFormation's default of 1 task, which the idle rule scales in after
      // `scaleInAfterMinutes` of observed empty backlog.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      capacityProviderStrategies: [
        { capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 },
      ],
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
    });
    // CreateService is refused while the cluster does not yet have the capacity provider the
    // strategy names, so the service waits for the AWS::ECS::ClusterCapacityProviderAssociations
    // resource. CDK adds that resource inside the cluster during synthesis (an aspect), so the
    // dependency is on the cluster's construct subtree, which is resolved after aspects run.
    this.service.node.addDependency(this.cluster);
    const { backlogAlarm, idleAlarm } = this.createBacklogScaling(props, maxInstances);
    this.backlogAlarm = backlogAlarm;
    this.idleAlarm = idleAlarm;
  }

  /** The gpu-work backlog: visible plus in-flight messages (a busy worker is not idle). */
  static backlogMetric(workQueue: Queue): MathExpression {
    const period = Duration.minutes(1);
    return new MathExpression({
      expression: 'visible + inflight',
      usingMetrics: {
        visible: workQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM }),
        inflight: workQueue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: Stats.MAXIMUM }),
      },
      period,
      label: 'gpu-work backlog (visible + in flight)',
    });
  }

  /**
   * The scale-in signal, one datapoint per minute that all three metrics have reported: 1 when the
   * service wanted tasks (Container Insights `DesiredTaskCount`) and gpu-work was seen empty (nothing
   * visible, nothing in flight), else 0. A minute some metric has not reported yet is no datapoint.
   *
   * Why: Auto Scaling repeats an alarm's action every period the alarm stays in ALARM, so a rule
   * that fires on "no backlog" or on missing SQS data keeps resetting the desired count to 0 right
   * after the dispatcher raised it, until SQS metrics catch up (up to ~15 minutes late for a queue
   * that was inactive). This rule needs evidence instead (metric math as documented: a series missing
   * at a timestamp counts as 0 in arithmetic, comparison and logical operators; a division by zero
   * drops the datapoint):
   * - `observed` is 1 where tasks, visible and inflight all have a datapoint, else 0, so dividing by
   *   it drops a minute not yet seen by all three: late data is neither idle nor busy, and the
   *   metrics arriving at different delays cannot keep resetting the count;
   * - while the service is at 0 the value is 0 (or absent), so the alarm is OK and has no action to
   *   repeat against the dispatcher's UpdateService;
   * - a running worker long-polls the queue, which keeps it active, so its metrics keep coming and
   *   the service does reach zero;
   * - after a scale-in the policy's cooldown (`scaleInCooldown`) blocks a repeat while the alarm still evaluates the
   *   minutes before it; a scale-out (the backlog alarm) ends that cooldown.
   */
  static idleMetric(workQueue: Queue, cluster: Cluster, service: Ec2Service): MathExpression {
    const period = Duration.minutes(1);
    const tasks = new Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'DesiredTaskCount',
      dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: service.serviceName },
      period,
      statistic: Stats.MAXIMUM,
    });
    const visible = workQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM });
    const inflight = workQueue.metricApproximateNumberOfMessagesNotVisible({
      period,
      statistic: Stats.MAXIMUM,
    });
    const observed = new MathExpression({
      expression: '(tasks * 0 + 1) * (visible * 0 + 1) * (inflight * 0 + 1)',
      usingMetrics: { tasks, visible, inflight },
      period,
      label: 'minute reported by every metric',
    });
    return new MathExpression({
      expression: 'IF((tasks > 0) AND (visible == 0) AND (inflight == 0), 1, 0) / observed',
      usingMetrics: { tasks, visible, inflight, observed },
      period,
      label: 'GPU tasks running while gpu-work is empty',
    });
  }

  /** Lets the dispatcher read the service and raise its desired count (scale from zero). */
  grantScaleFromZero(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: [this.service.serviceArn],
      }),
    );
  }

  /** Lets a principal pull results out of the worker's logs (e.g. an operator role). */
  grantReadLogs(grantee: IGrantable): Grant {
    return this.logGroup.grantRead(grantee);
  }

  private createAutoScalingGroup(
    props: GpuWorkerServiceProps,
    maxInstances: number,
    cluster: Cluster,
  ): AutoScalingGroup {
    const role = new Role(this, 'InstanceRole', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description: 'GPU container instances: registers with the ECS cluster',
    });
    // What the ECS container agent calls, written out here. The cluster would add the same plus
    // logs:CreateLogStream/PutLogEvents on `*`, which only tasks without an execution role need (their
    // awslogs driver then uses the instance's credentials): the worker's task has one, scoped to its
    // log group. So the launch template gets the role without policy updates, and the cluster's
    // additions are dropped; `gpu-inference-stack.test.ts` lists the role's actions.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DeregisterContainerInstance', 'ecs:RegisterContainerInstance', 'ecs:Submit*'],
        resources: [cluster.clusterArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:Poll', 'ecs:StartTelemetrySession'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DiscoverPollEndpoint', 'ecr:GetAuthorizationToken'],
        resources: ['*'],
      }),
    );
    const launchTemplate = new LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: EcsOptimizedImage.amazonLinux2023(AmiHardwareType.GPU),
      instanceType: props.instanceType ?? new InstanceType('g5.xlarge'),
      role: role.withoutPolicyUpdates(),
      userData: UserData.forLinux(),
      requireImdsv2: true,
      // Tasks use awsvpc networking and have their own credentials: they never need the instance's.
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      securityGroup: new SecurityGroup(this, 'InstanceSecurityGroup', {
        vpc: props.vpc,
        description: 'GPU container instances: no inbound',
        allowAllOutbound: true,
      }),
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: BlockDeviceVolume.ebs(props.rootVolumeGiB ?? 100, {
            encrypted: true,
            volumeType: EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });
    // Tasks must not reach the instance metadata service (and so the instance role).
    launchTemplate.userData?.addCommands('echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config');
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::ecs:Submit*]',
      reason:
        'The wildcard is in the action name: the container agent reports state with ecs:SubmitContainerStateChange, ' +
        'ecs:SubmitTaskStateChange and ecs:SubmitAttachmentStateChanges (as AmazonEC2ContainerServiceforEC2Role), ' +
        'and the statement is limited to this cluster',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecs:DiscoverPollEndpoint and ecr:GetAuthorizationToken support no resource-level permissions; ' +
        'ecs:Poll and ecs:StartTelemetrySession act on the container instance, whose ARN exists only once it has ' +
        'registered, so the ecs:cluster condition limits them to this cluster',
    });
    const group = new AutoScalingGroup(this, 'AutoScalingGroup', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      // No GPU instance runs (or bills) while there is no work.
      minCapacity: 0,
      maxCapacity: maxInstances,
    });
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'The ECS capacity provider owns this group; scaling is visible in the ECS service events and backlog alarms',
    });
    return group;
  }

  private createTaskDefinition(props: GpuWorkerServiceProps, maxBatchDuration: Duration): Ec2TaskDefinition {
    const taskDefinition = new Ec2TaskDefinition(this, 'TaskDefinition', {
      networkMode: NetworkMode.AWS_VPC,
    });
    const model = props.defaultModel ?? modelSettings;
    const maxBatch = props.maxBatch ?? workerSettings.maxBatch;
    checkInteger('maxBatch', maxBatch, 1, 4096);
    const stopTimeout = Duration.seconds(workerSettings.stopTimeoutSeconds);
    taskDefinition.addContainer('Worker', {
      image: ContainerImage.fromAsset(projectRoot, {
        file: 'functions/gpu-worker/Dockerfile',
        exclude: IMAGE_CONTEXT_EXCLUDES,
        platform: Platform.LINUX_AMD64,
      }),
      gpuCount: 1,
      memoryReservationMiB: props.memoryReservationMiB ?? 12_288,
      essential: true,
      stopTimeout,
      logging: LogDrivers.awsLogs({ streamPrefix: 'gpu-worker', logGroup: this.logGroup }),
      healthCheck: {
        command: ['CMD-SHELL', `test -f ${workerSettings.readyFile} || exit 1`],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        // Model load and warm-up come before readiness.
        startPeriod: Duration.seconds(300),
      },
      environment: {
        AWS_REGION: Stack.of(this).region,
        WORK_QUEUE_URL: props.workQueue.queueUrl,
        JOBS_TABLE: props.jobsTable.tableName,
        MODEL_REPOSITORY: props.modelRepository
          ? `s3://${props.modelRepository.bucket.bucketName}/${props.modelRepository.prefix ?? ''}`
          : '/opt/models',
        MODEL_NAME: model.name,
        MODEL_VERSION: model.version,
        MAX_BATCH: String(maxBatch),
        MAX_DELAY_MS: String(props.maxDelayMs ?? workerSettings.maxDelayMs),
        MAX_BATCH_DURATION_MS: String(maxBatchDuration.toMilliseconds()),
        VISIBILITY_TIMEOUT_SECONDS: String(inferenceSettings.workQueue.visibilityTimeoutSeconds),
        HEARTBEAT_INTERVAL_MS: String(workerSettings.heartbeatIntervalMs),
        STOP_TIMEOUT_MS: String(stopTimeout.toMilliseconds() - workerSettings.stopMarginMs),
        S3_INPUTS: (props.inputBuckets?.length ?? 0) > 0 ? 'enabled' : 'disabled',
        READY_FILE: workerSettings.readyFile,
        POWERTOOLS_SERVICE_NAME: GPU_WORKER_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...traceExportEnvironment('GpuWorkerService', props.traceExport, GPU_WORKER_SERVICE),
      },
    });

    // The task role: exactly what the worker calls. ReceiveMessage, DeleteMessageBatch and
    // ChangeMessageVisibilityBatch on its queue (the batch calls authorise as DeleteMessage and
    // ChangeMessageVisibility), version-guarded PutItem on its table, and the agent's
    // task-protection endpoint (a PUT: UpdateTaskProtection).
    const taskRole = taskDefinition.taskRole;
    props.workQueue.grant(taskRole, 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility');
    props.jobsTable.grant(taskRole, 'dynamodb:PutItem');
    taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:UpdateTaskProtection'],
        resources: [
          `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:task/${this.cluster.clusterName}/*`,
        ],
      }),
    );
    props.modelRepository?.bucket.grantRead(taskRole, `${props.modelRepository.prefix ?? ''}*`);
    for (const bucket of props.inputBuckets ?? []) bucket.grantRead(taskRole);

    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds configuration only (queue URL, table name, batch settings); no secrets',
    });
    const clusterId = Stack.of(this).getLogicalId(this.cluster.node.defaultChild as CfnElement);
    Validations.of(taskRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${clusterId}>/*]`,
      reason: 'Task protection is per task of this cluster: task IDs are not known before the tasks run',
    });
    Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken supports no resource-level permissions (the image pull itself is scoped to its repository)',
    });
    return taskDefinition;
  }

  private createBacklogScaling(props: GpuWorkerServiceProps, maxInstances: number) {
    const messagesPerTask = props.messagesPerTask ?? 100;
    checkInteger('messagesPerTask', messagesPerTask, 1, 1_000_000);
    const scaleInAfterMinutes = props.scaleInAfterMinutes ?? 5;
    checkInteger('scaleInAfterMinutes', scaleInAfterMinutes, 1, 60);
    const scaleInCooldown = props.scaleInCooldown ?? Duration.minutes(15);
    checkInteger('scaleInCooldown (minutes)', scaleInCooldown.toMinutes({ integral: false }), 1, 60);
    const target = new ScalableTarget(this, 'ScalableTarget', {
      serviceNamespace: ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${this.cluster.clusterName}/${this.service.serviceName}`,
      minCapacity: 0,
      maxCapacity: maxInstances,
      // ECS scaling uses Application Auto Scaling's service-linked role (as the service's own
      // autoScaleTaskCount does); without it, CDK would create a role nothing assumes.
      role: Role.fromRoleArn(
        this,
        'ScalingRole',
        Stack.of(this).formatArn({
          region: '',
          service: 'iam',
          resource: 'role/aws-service-role/ecs.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_ECSService',
        }),
      ),
    });

    // Scale out: from 1 message of backlog, one task, and one more per `messagesPerTask`.
    const scaleOut = new StepScalingAction(this, 'ScaleOut', {
      scalingTarget: target,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      cooldown: Duration.seconds(60),
    });
    // Bounds are relative to the alarm threshold (1 message).
    for (let tasks = 1; tasks <= maxInstances; tasks++) {
      const lower = tasks === 1 ? 0 : (tasks - 1) * messagesPerTask - 1;
      const upper = tasks === maxInstances ? undefined : tasks * messagesPerTask - 1;
      scaleOut.addAdjustment({
        lowerBound: lower,
        ...(upper === undefined ? {} : { upperBound: upper }),
        adjustment: tasks,
      });
    }
    const backlogAlarm = new Alarm(this, 'BacklogAlarm', {
      alarmDescription: 'gpu-work has a backlog (visible or in flight): the GPU service needs tasks.',
      metric: GpuWorkerService.backlogMetric(props.workQueue),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    backlogAlarm.addAlarmAction(new ApplicationScalingAction(scaleOut));

    // Scale in to zero once the queue has been *observed* empty while tasks run (see idleMetric).
    const scaleIn = new StepScalingAction(this, 'ScaleIn', {
      scalingTarget: target,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: MetricAggregationType.MINIMUM,
      // Blocks a repeated scale-in while the alarm still evaluates the minutes before it.
      cooldown: scaleInCooldown,
    });
    scaleIn.addAdjustment({ lowerBound: 0, adjustment: 0 });
    const idleAlarm = new Alarm(this, 'IdleAlarm', {
      alarmDescription: `GPU tasks ran while gpu-work was seen empty for ${scaleInAfterMinutes} minutes: the service can stop.`,
      metric: GpuWorkerService.idleMetric(props.workQueue, this.cluster, this.service),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: scaleInAfterMinutes,
      datapointsToAlarm: scaleInAfterMinutes,
      // Missing or late data (an idle queue's metrics stop; they resume up to ~15 minutes late) is
      // never evidence of idleness.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    idleAlarm.addAlarmAction(new ApplicationScalingAction(scaleIn));
    return { backlogAlarm, idleAlarm };
  }
}

function checkInteger(prop: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidPropError('GpuWorkerService', prop, String(value), `use an integer in ${min}..${max}`);
  }
}
