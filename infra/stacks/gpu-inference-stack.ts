import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { InstanceType, IVpc } from 'aws-cdk-lib/aws-ec2';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { GpuInferenceDispatcher } from '../constructs/gpu-inference-dispatcher.ts';
import { GpuNetwork, type GpuNetworkProps } from '../constructs/gpu-network.ts';
import { type GpuModelRepository, GpuWorkerService } from '../constructs/gpu-worker-service.ts';
import { deadLetterAlarm } from '../constructs/queue-alarms.ts';
import { SecureQueue } from '../constructs/secure-queue.ts';

export interface GpuInferenceStackProps extends StackProps {
  /** GPU instance type. @default g5.xlarge */
  readonly instanceType?: InstanceType;
  /** Most GPU instances and tasks. @default 2 */
  readonly maxInstances?: number;
  /** Run in this VPC (private subnets with egress) instead of a new `GpuNetwork`. @default a new GpuNetwork */
  readonly vpc?: IVpc;
  /** Props of the new network when `vpc` is not given. @default GpuNetwork's defaults */
  readonly network?: GpuNetworkProps;
  /** Largest batch per inference call. @default inferenceSettings.worker.maxBatch (32) */
  readonly maxBatch?: number;
  /** Model name → version the dispatcher assigns when no config snapshot names the model. @default { 'shelf-classifier': '1' } */
  readonly models?: Readonly<Record<string, string>>;
  /** Models from S3 instead of the one baked into the image. @default the image's */
  readonly modelRepository?: GpuModelRepository;
  /** What happens to the jobs table when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
}

/**
 * GPU inference: `inference-requests` → dispatcher Lambda → jobs table (`QUEUED`) + `gpu-work` →
 * ECS GPU service (scales from zero) → jobs table (`RUNNING`/`DONE`/`FAILED`).
 *
 * @example
 * new GpuInferenceStack(app, 'GpuInference', { instanceType: new InstanceType('g6.xlarge') });
 */
export class GpuInferenceStack extends Stack {
  readonly jobsTable: Table;
  readonly workQueue: Queue;
  readonly workDeadLetterQueue: Queue;
  readonly vpc: IVpc;
  readonly workers: GpuWorkerService;
  readonly dispatcher: GpuInferenceDispatcher;
  /** The DLQ alarms: each message that dead-letters is an incident. */
  readonly alarms: Alarm[];
  readonly alarmTopic: AlarmTopic;

  constructor(scope: Construct, id: string, props: GpuInferenceStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = props.tableRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.jobsTable = new Table(this, 'JobsTable', {
      partitionKey: { name: inferenceSettings.jobsTable.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: inferenceSettings.jobsTable.ttlAttribute,
      removalPolicy,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    });
    const work = new SecureQueue(this, 'GpuWork', {
      // Longer than the longest batch plus a heartbeat: never redelivered while legitimately running.
      visibilityTimeout: Duration.seconds(inferenceSettings.workQueue.visibilityTimeoutSeconds),
      maxReceiveCount: inferenceSettings.workQueue.maxReceiveCount,
      retentionPeriod: Duration.days(inferenceSettings.workQueue.retentionDays),
    });
    this.workQueue = work.queue;
    this.workDeadLetterQueue = work.deadLetterQueue;
    this.vpc = props.vpc ?? new GpuNetwork(this, 'Network', props.network).vpc;

    this.workers = new GpuWorkerService(this, 'Workers', {
      vpc: this.vpc,
      workQueue: this.workQueue,
      jobsTable: this.jobsTable,
      ...(props.instanceType ? { instanceType: props.instanceType } : {}),
      ...(props.maxInstances === undefined ? {} : { maxInstances: props.maxInstances }),
      ...(props.maxBatch === undefined ? {} : { maxBatch: props.maxBatch }),
      ...(props.modelRepository ? { modelRepository: props.modelRepository } : {}),
    });
    this.dispatcher = new GpuInferenceDispatcher(this, 'Dispatcher', {
      workQueue: this.workQueue,
      jobsTable: this.jobsTable,
      workers: this.workers,
      ...(props.models ? { models: props.models } : {}),
    });

    const dlqAlarm = (alarmId: string, queue: Queue, what: string) =>
      deadLetterAlarm(this, alarmId, queue, `Messages are waiting in the ${what} DLQ.`);
    this.alarms = [
      dlqAlarm('RequestsDeadLetterAlarm', this.dispatcher.deadLetterQueue, 'inference-requests'),
      dlqAlarm('WorkDeadLetterAlarm', this.workDeadLetterQueue, 'gpu-work'),
    ];
    // The scaling alarms (backlog, idle) change state as part of normal operation: no notifications.
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { displayName: 'GPU inference alarms' });
    this.alarmTopic.notify(...this.alarms);

    new CfnOutput(this, 'JobsTableName', { value: this.jobsTable.tableName });
    new CfnOutput(this, 'InferenceRequestsQueueUrl', { value: this.dispatcher.requestsQueue.queueUrl });
    new CfnOutput(this, 'InferenceRequestsDeadLetterQueueUrl', {
      value: this.dispatcher.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'GpuWorkQueueUrl', { value: this.workQueue.queueUrl });
    new CfnOutput(this, 'GpuWorkDeadLetterQueueUrl', { value: this.workDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn });
  }
}
