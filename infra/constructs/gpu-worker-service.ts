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
import { inferenceSettings } from '../../shared/inference/settings.ts';
import { InvalidPropError } from './errors.ts';
import { projectRoot } from './pipeline-function.ts';

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
  '!scripts/build-model.ts',
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
  /** Minutes of empty backlog (nothing visible, nothing in flight) before the service scales to zero. @default 5 */
  readonly scaleInAfterMinutes?: number;
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
}

/**
 * The GPU workers: an ECS cluster on an Auto Scaling group of GPU instances (ECS GPU-optimised
 * Amazon Linux 2023 AMI, launch template, IMDSv2, encrypted root volume) behind a capacity
 * provider with managed scaling from zero, and an EC2 service of `gpu-worker` tasks (one GPU each)
 * that starts at zero and scales in steps on the gpu-work backlog, in-flight messages included.
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
  /** Fires at ≥ 1 message of backlog: the scale-out alarm. */
  readonly backlogAlarm: Alarm;
  /** Fires after `scaleInAfterMinutes` of empty backlog: the scale-in (to zero) alarm. */
  readonly idleAlarm: Alarm;

  constructor(scope: Construct, id: string, props: GpuWorkerServiceProps) {
    super(scope, id);
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
    this.autoScalingGroup = this.createAutoScalingGroup(props, maxInstances);
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
      // Scale from zero: the dispatcher raises it when work arrives, the backlog policy owns the rest.
      desiredCount: 0,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      capacityProviderStrategies: [
        { capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 },
      ],
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
    });
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

  private createAutoScalingGroup(props: GpuWorkerServiceProps, maxInstances: number): AutoScalingGroup {
    const role = new Role(this, 'InstanceRole', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description: 'GPU container instances: registers with the ECS cluster',
    });
    const launchTemplate = new LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: EcsOptimizedImage.amazonLinux2023(AmiHardwareType.GPU),
      instanceType: props.instanceType ?? new InstanceType('g5.xlarge'),
      role,
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
    for (const id of ['AwsSolutions-IAM5[Action::ecs:Submit*]', 'AwsSolutions-IAM5[Resource::*]']) {
      Validations.of(role).acknowledge({
        id,
        reason:
          'The ECS container agent permissions CDK grants a cluster instance (as AmazonEC2ContainerServiceforEC2Role); ' +
          'ecs:DiscoverPollEndpoint, ecs:Submit* and ecr:GetAuthorizationToken take no resource ARN',
      });
    }
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
        POWERTOOLS_SERVICE_NAME: 'gpu-worker',
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'GpuInference',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
    });

    // The task role: its queue, its table, its own scale-in protection, and nothing else.
    const taskRole = taskDefinition.taskRole;
    props.workQueue.grantConsumeMessages(taskRole);
    props.jobsTable.grant(taskRole, 'dynamodb:PutItem');
    taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
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
    const target = new ScalableTarget(this, 'ScalableTarget', {
      serviceNamespace: ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${this.cluster.clusterName}/${this.service.serviceName}`,
      minCapacity: 0,
      maxCapacity: maxInstances,
    });
    const backlog = GpuWorkerService.backlogMetric(props.workQueue);

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
      metric: backlog,
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    backlogAlarm.addAlarmAction(new ApplicationScalingAction(scaleOut));

    // Scale in to zero only after the backlog (in-flight messages included) stayed empty.
    const scaleIn = new StepScalingAction(this, 'ScaleIn', {
      scalingTarget: target,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      cooldown: Duration.minutes(scaleInAfterMinutes),
    });
    scaleIn.addAdjustment({ upperBound: 0, adjustment: 0 });
    const idleAlarm = new Alarm(this, 'IdleAlarm', {
      alarmDescription: `gpu-work has been empty for ${scaleInAfterMinutes} minutes: the GPU service can stop.`,
      metric: backlog,
      threshold: 0,
      comparisonOperator: ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: scaleInAfterMinutes,
      // An idle queue's metrics can stop: no data means no work.
      treatMissingData: TreatMissingData.BREACHING,
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
