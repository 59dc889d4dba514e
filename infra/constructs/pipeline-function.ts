import { fileURLToPath } from 'node:url';
import { Validations } from 'aws-cdk-lib';
import { Architecture, type IEventSource, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
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
}

/**
 * A pipeline Lambda function: Node.js 24 on ARM64, bundled locally by esbuild (no Docker at synth)
 * as minified ESM with source maps, the AWS SDK bundled in, Powertools configured.
 */
export class PipelineFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    const { handlerFile, serviceName, metricsNamespace, logLevel, environment, ...rest } = props;
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
      reason:
        "Pipeline functions are invoked only by SQS event sources (synchronously); a function DLQ applies to asynchronous invocations. Failed records go to the source queue's dead-letter queue through its redrive policy",
    });
    if ((props.tracing ?? Tracing.DISABLED) !== Tracing.ACTIVE) {
      Validations.of(this).acknowledge({
        id: 'Serverless::Serverless-LambdaTracing',
        reason:
          'Active X-Ray tracing is opt-in (the tracing prop): no trace context crosses the pipeline queues yet, so it would record disconnected one-hop traces billed per trace',
      });
    }
  }

  /** Adds an event source; an SQS event source takes no on-failure destination (its queue's redrive policy is one). */
  override addEventSource(source: IEventSource): void {
    super.addEventSource(source);
    if (!(source instanceof SqsEventSource)) return;
    Validations.of(this).acknowledge({
      id: 'Serverless::Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings support no on-failure destination; failed records return to the queue and its redrive policy moves them to its dead-letter queue',
    });
  }
}
