import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { type Alarm, GraphWidget, Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { InstanceType, IVpc } from 'aws-cdk-lib/aws-ec2';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  DISPATCHER_METRICS,
  DISPATCHER_SERVICE,
  GPU_DIMENSION,
  GPU_TELEMETRY_METRICS,
  GPU_WORKER_METRICS,
  GPU_WORKER_SERVICE,
} from '../../shared/pipeline/inference/metric-names.ts';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import { WRITE_BATCHER_METRICS } from '../../shared/write-batcher/index.ts';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { PipelineDashboard } from '../constructs/dashboard.ts';
import {
  DISPATCHER_LAYOUT,
  GPU_TELEMETRY_LAYOUT,
  GPU_WORKER_LAYOUT,
  WRITE_BATCHER_LAYOUT,
} from '../constructs/dashboard-layouts.ts';
import { GpuInferenceDispatcher } from '../constructs/gpu-inference-dispatcher.ts';
import { GpuNetwork, type GpuNetworkProps } from '../constructs/gpu-network.ts';
import { type GpuModelRepository, GpuWorkerService } from '../constructs/gpu-worker-service.ts';
import { deadLetterAlarm } from '../constructs/queue-alarms.ts';
import { SecureQueue } from '../constructs/secure-queue.ts';
import type { TraceExportProps } from '../constructs/trace-export.ts';

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
  /** gpu-work backlog per task (`GpuWorkerService`): one more task per this many messages. @default 100 */
  readonly messagesPerTask?: number;
  /** Model name → version the dispatcher assigns when no config snapshot names the model. @default { 'shelf-classifier': '1' } */
  readonly models?: Readonly<Record<string, string>>;
  /** Models from S3 instead of the one baked into the image. @default the image's */
  readonly modelRepository?: GpuModelRepository;
  /** What happens to the jobs table when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** OpenTelemetry traces of the dispatcher and the GPU workers to this OTLP endpoint. @default none */
  readonly traceExport?: TraceExportProps;
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
  /** Requests, the dispatcher, the gpu-work backlog, the GPU tasks and their GPUs on one dashboard. */
  readonly dashboard: PipelineDashboard;

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
      ...(props.messagesPerTask === undefined ? {} : { messagesPerTask: props.messagesPerTask }),
      ...(props.modelRepository ? { modelRepository: props.modelRepository } : {}),
      ...(props.traceExport ? { traceExport: props.traceExport } : {}),
    });
    this.dispatcher = new GpuInferenceDispatcher(this, 'Dispatcher', {
      workQueue: this.workQueue,
      jobsTable: this.jobsTable,
      workers: this.workers,
      ...(props.models ? { models: props.models } : {}),
      ...(props.traceExport ? { traceExport: props.traceExport } : {}),
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
    this.dashboard = this.createDashboard();

    new CfnOutput(this, 'JobsTableName', { value: this.jobsTable.tableName });
    new CfnOutput(this, 'InferenceRequestsQueueUrl', { value: this.dispatcher.requestsQueue.queueUrl });
    new CfnOutput(this, 'InferenceRequestsDeadLetterQueueUrl', {
      value: this.dispatcher.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'GpuWorkQueueUrl', { value: this.workQueue.queueUrl });
    new CfnOutput(this, 'GpuWorkDeadLetterQueueUrl', { value: this.workDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn });
  }

  private createDashboard(): PipelineDashboard {
    const { dispatcher, workers } = this;
    const dashboard = new PipelineDashboard(this, 'Dashboard');
    const fromDispatcher = {
      label: 'dispatcher',
      namespace: dispatcher.metricsNamespace,
      service: DISPATCHER_SERVICE,
    };
    const fromWorker = {
      label: 'GPU worker',
      namespace: workers.metricsNamespace,
      service: GPU_WORKER_SERVICE,
    };
    dashboard.addSection(
      'Inference requests',
      'inference-requests → dispatcher Lambda → jobs table + gpu-work',
    );
    dashboard.addQueue('inference-requests', dispatcher.requestsQueue, dispatcher.deadLetterQueue);
    dashboard.addFunction('dispatcher', dispatcher.function);
    dashboard.addAppMetrics({ ...fromDispatcher, names: DISPATCHER_METRICS, layout: DISPATCHER_LAYOUT });
    dashboard.addAppMetrics({
      ...fromDispatcher,
      names: WRITE_BATCHER_METRICS,
      layout: WRITE_BATCHER_LAYOUT,
    });
    dashboard.addLogQuery(
      'dispatcher: config snapshot version adopted',
      [dispatcher.logGroup],
      DISPATCHER_SNAPSHOT_VERSION_QUERY,
    );
    dashboard.addSection('GPU work', 'gpu-work backlog → ECS GPU service (scales from zero) → jobs table');
    dashboard.addQueue(
      'gpu-work',
      this.workQueue,
      this.workDeadLetterQueue,
      GpuWorkerService.backlogMetric(this.workQueue),
    );
    dashboard.addGraphs(...taskGraphs(workers));
    dashboard.addAppMetrics({ ...fromWorker, names: GPU_WORKER_METRICS, layout: GPU_WORKER_LAYOUT });
    // Each task is given one GPU, which it sees as index 0: the workers' GPUs are all `gpu` = 0.
    dashboard.addAppMetrics({
      ...fromWorker,
      names: GPU_TELEMETRY_METRICS,
      layout: GPU_TELEMETRY_LAYOUT,
      dimensions: { [GPU_DIMENSION]: '0' },
    });
    dashboard.addAppMetrics({ ...fromWorker, names: WRITE_BATCHER_METRICS, layout: WRITE_BATCHER_LAYOUT });
    return dashboard;
  }
}

/** The dispatcher logs each snapshot it adopts (`adopted snapshot`: `stableVersion`, `candidateVersion`). */
const DISPATCHER_SNAPSHOT_VERSION_QUERY = [
  'filter message = "adopted snapshot"',
  'stats max(stableVersion) as stable, max(candidateVersion) as candidate by bin(5m)',
];

/** The GPU service's tasks (Container Insights) and its CPU and memory use (AWS/ECS). */
function taskGraphs(workers: GpuWorkerService): GraphWidget[] {
  const dimensionsMap = {
    ClusterName: workers.cluster.clusterName,
    ServiceName: workers.service.serviceName,
  };
  const tasks = (metricName: string) =>
    new Metric({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensionsMap,
      period: Duration.minutes(1),
      statistic: Stats.MAXIMUM,
      label: metricName,
    });
  const options = { period: Duration.minutes(1), statistic: Stats.AVERAGE };
  return [
    new GraphWidget({
      title: 'GPU tasks: running / desired / pending',
      left: ['RunningTaskCount', 'DesiredTaskCount', 'PendingTaskCount'].map(tasks),
      width: 8,
      height: 6,
    }),
    new GraphWidget({
      title: 'GPU tasks: CPU and memory utilisation (%)',
      left: [
        workers.service.metricCpuUtilization({ ...options, label: 'CPU' }),
        workers.service.metricMemoryUtilization({ ...options, label: 'memory' }),
      ],
      width: 8,
      height: 6,
    }),
  ];
}
