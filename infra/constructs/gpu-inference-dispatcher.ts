import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DISPATCHER_SERVICE } from '../../shared/pipeline/inference/metric-names.ts';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import { InvalidPropError } from './errors.ts';
import type { GpuWorkerService } from './gpu-worker-service.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { SecureQueue } from './secure-queue.ts';
import { type TraceExportProps, traceExportEnvironment } from './trace-export.ts';

const { dispatcher: settings, requestsQueue: queueSettings } = inferenceSettings;

/** Root of the repository: the esbuild project root and where package-lock.json lives. */

export interface GpuInferenceDispatcherProps {
  /** Where jobs go: the gpu-work queue. */
  readonly workQueue: Queue;
  readonly jobsTable: ITable;
  /** The service to raise from zero when work arrives; none: the backlog alarm alone scales it. */
  readonly workers?: GpuWorkerService;
  /** Model name → version served when no config snapshot names the model. @default { [inferenceSettings.model.name]: inferenceSettings.model.version } */
  readonly models?: Readonly<Record<string, string>>;
  /** Lambda timeout. @default 30 s */
  readonly timeout?: Duration;
  /** Records per invocation. @default inferenceSettings.dispatcher.batchSize (100) */
  readonly batchSize?: number;
  /** Most concurrent invocations. @default inferenceSettings.dispatcher.maxConcurrency (5) */
  readonly maxConcurrency?: number;
  /** `POWERTOOLS_METRICS_NAMESPACE`. @default 'GpuInference' */
  readonly metricsNamespace?: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * OpenTelemetry traces of the dispatcher (one span per batch, linked to each request's trace; each
   * job's context travels on to the GPU worker) to this OTLP endpoint. @default none
   */
  readonly traceExport?: TraceExportProps;
}

/**
 * The inference front door: the encrypted `inference-requests` queue and its DLQ, and the
 * dispatcher Lambda that validates requests, writes QUEUED (or FAILED) job records, packs jobs into
 * gpu-work messages and raises the GPU service from zero.
 *
 * Model versions come from `MODELS`, or from the `pipeline` config snapshot once the snapshot store
 * binds the function as a reader: `snapshots.bindReader(dispatcher.function)`.
 */
export class GpuInferenceDispatcher extends Construct {
  readonly requestsQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly function: PipelineFunction;
  readonly logGroup: LogGroup;
  /** `POWERTOOLS_METRICS_NAMESPACE` of the dispatcher. */
  readonly metricsNamespace: string;

  constructor(scope: Construct, id: string, props: GpuInferenceDispatcherProps) {
    super(scope, id);
    this.metricsNamespace = props.metricsNamespace ?? 'GpuInference';
    const timeout = props.timeout ?? Duration.seconds(settings.timeoutSeconds);
    const batchSize = props.batchSize ?? settings.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      throw new InvalidPropError('GpuInferenceDispatcher', 'batchSize', String(batchSize), 'use 1..10000');
    }
    const requests = new SecureQueue(this, 'Requests', {
      visibilityTimeout: Duration.seconds(
        Math.max(queueSettings.visibilityTimeoutSeconds, 6 * timeout.toSeconds()),
      ),
      maxReceiveCount: queueSettings.maxReceiveCount,
    });
    this.requestsQueue = requests.queue;
    this.deadLetterQueue = requests.deadLetterQueue;
    this.logGroup = new LogGroup(this, 'DispatcherLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });

    const role = new Role(this, 'DispatcherRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Inference dispatcher: requests in, job records and gpu-work messages out',
    });
    const models = props.models ?? { [inferenceSettings.model.name]: inferenceSettings.model.version };
    this.function = new PipelineFunction(this, 'Dispatcher', {
      description: 'Validates inference requests, records jobs and sends them to the GPU workers',
      handlerFile: 'functions/inference-dispatcher/handler.ts',
      serviceName: DISPATCHER_SERVICE,
      metricsNamespace: this.metricsNamespace,
      logLevel: 'INFO',
      timeout,
      memorySize: settings.memoryMiB,
      role,
      logGroup: this.logGroup,
      environment: {
        JOBS_TABLE: props.jobsTable.tableName,
        WORK_QUEUE_URL: props.workQueue.queueUrl,
        DLQ_URL: this.deadLetterQueue.queueUrl,
        MODELS: Stack.of(this).toJsonString(models),
        ...(props.workers
          ? {
              ECS_CLUSTER: props.workers.cluster.clusterName,
              ECS_SERVICE: props.workers.service.serviceName,
            }
          : {}),
        ...traceExportEnvironment('GpuInferenceDispatcher', props.traceExport, DISPATCHER_SERVICE),
      },
    });
    this.function.consume(this.requestsQueue, {
      reportBatchItemFailures: true,
      batchSize,
      maxBatchingWindow: Duration.seconds(settings.maxBatchingWindowSeconds),
      maxConcurrency: props.maxConcurrency ?? settings.maxConcurrency,
    });
    this.logGroup.grantWrite(role);
    // Version-guarded puts of job records, and the consistent read that skips finished duplicates.
    props.jobsTable.grant(role, 'dynamodb:PutItem', 'dynamodb:BatchGetItem');
    // SendMessageBatch (authorised as SendMessage) is all the dispatcher does on gpu-work.
    props.workQueue.grant(role, 'sqs:SendMessage');
    this.deadLetterQueue.grant(role, 'sqs:SendMessage');
    props.workers?.grantScaleFromZero(role);
  }

  /** Lets a client submit inference requests. */
  grantSubmit(grantee: IGrantable): Grant {
    return this.requestsQueue.grantSendMessages(grantee);
  }
}
