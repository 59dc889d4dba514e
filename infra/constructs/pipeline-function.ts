import { fileURLToPath } from 'node:url';
import { Names, Validations } from 'aws-cdk-lib';
import { Architecture, type EventSourceMapping, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import type { SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** The repository root: handler files and the lock file are found from here. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface PipelineFunctionProps
  extends Omit<
    NodejsFunctionProps,
    'entry' | 'handler' | 'projectRoot' | 'depsLockFilePath' | 'runtime' | 'architecture' | 'bundling'
  > {
  /** Handler file relative to the project root; it exports `handler`. */
  readonly handlerFile: string;
  /** `POWERTOOLS_SERVICE_NAME`. */
  readonly serviceName: string;
  /** `POWERTOOLS_METRICS_NAMESPACE`. */
  readonly metricsNamespace: string;
  /** `POWERTOOLS_LOG_LEVEL`. @default 'INFO' */
  readonly logLevel?: string;
  /**
   * How it is invoked, for the cdk-nag reasoning about a function DLQ: by SQS event sources
   * (synchronously; failed records go to the queue's DLQ), or asynchronously by a schedule that
   * sends no retries (a failed tick is superseded by the next one). @default 'event-source'
   */
  readonly invokedBy?: 'event-source' | 'schedule';
}

const DLQ_REASONS = {
  'event-source':
    "Pipeline functions are invoked only by SQS event sources (synchronously); a function DLQ applies to asynchronous invocations. Failed records go to the source queue's dead-letter queue through its redrive policy",
  schedule:
    'Invoked asynchronously by an EventBridge schedule with retries off: a failed tick carries no data and is superseded by the next one a minute later, so a DLQ would only collect stale ticks',
} as const;

/**
 * A pipeline Lambda function: Node.js 24 on ARM64, bundled locally by esbuild (no Docker at synth)
 * as minified ESM with source maps, the AWS SDK bundled in, Powertools configured.
 */
export class PipelineFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    const { handlerFile, serviceName, metricsNamespace, logLevel, environment, invokedBy, ...rest } = props;
    super(scope, id, {
      ...rest,
      entry: `${projectRoot}${handlerFile}`,
      handler: 'handler',
      projectRoot,
      depsLockFilePath: `${projectRoot}package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      environment: {
        ...environment,
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
        POWERTOOLS_LOG_LEVEL: logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        // Error classes keep their names (errorType in Lambda's error report, `name` in logs).
        keepNames: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // Bundled CommonJS dependencies still call require(); ESM output has none.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        // Bundle the AWS SDK too: the function runs the SDK versions the tests ran, not the runtime's.
        externalModules: [],
      },
    });
    Validations.of(this).acknowledge({
      id: 'Serverless::Serverless-LambdaDLQ',
      reason: DLQ_REASONS[invokedBy ?? 'event-source'],
    });
    if ((props.tracing ?? Tracing.DISABLED) !== Tracing.ACTIVE) {
      Validations.of(this).acknowledge({
        id: 'Serverless::Serverless-LambdaTracing',
        reason:
          'Tracing across the pipeline queues is OpenTelemetry (W3C traceparent on each message, OTLP export opt-in through the traceExport props); active X-Ray tracing stays opt-in (the tracing prop)',
      });
    }
  }

  /**
   * Makes the function the consumer of `queue` through an event source mapping with `props`, and
   * grants exactly what Lambda's pollers use (as AWSLambdaSQSQueueExecutionRole): ReceiveMessage,
   * DeleteMessage and GetQueueAttributes. `SqsEventSource` would also grant GetQueueUrl and
   * ChangeMessageVisibility, which no poller calls.
   */
  consume(queue: IQueue, props: SqsEventSourceProps = {}): EventSourceMapping {
    const mapping = this.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
      eventSourceArn: queue.queueArn,
      batchSize: props.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      reportBatchItemFailures: props.reportBatchItemFailures,
      enabled: props.enabled,
      filters: props.filters,
      metricsConfig: props.metricsConfig,
      provisionedPollerConfig: props.provisionedPollerConfig,
    });
    queue.grant(this, ...SQS_POLLER_ACTIONS);
    Validations.of(this).acknowledge({
      id: 'Serverless::Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings support no on-failure destination; failed records return to the queue and its redrive policy moves them to its dead-letter queue',
    });
    return mapping;
  }
}

/** What Lambda's SQS pollers call on the function's behalf. */
export const SQS_POLLER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
] as const;
