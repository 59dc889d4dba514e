import { fileURLToPath } from 'node:url';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
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
  }
}
