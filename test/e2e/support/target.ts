/**
 * Where the e2e suite finds the deployed pipeline: the outputs of its stacks, from a
 * `cdk deploy --outputs-file` file (`E2E_OUTPUTS_FILE`; the local cloud's global setup writes one
 * too) or from CloudFormation (`E2E_STACKS`). Tests reach the pipeline only through what these name.
 */

import { readFile } from 'node:fs/promises';

/** The stack names of the CDK app (`infra/app.ts`). */
export const STACKS = { writePath: 'WritePath', gpuInference: 'GpuInference' } as const;

/** Stack → output key → value, the shape `cdk deploy --outputs-file` writes. */
export type StackOutputs = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The public surfaces of the WritePath stack. */
export interface WritePathTarget {
  readonly tableName: string;
  readonly ingestQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly snapshotsTableName: string;
  readonly configChangesQueueUrl: string;
  readonly configChangesDeadLetterQueueUrl: string;
  /** The tables a config snapshot may route to (`GrantedTableNames`, comma-separated). */
  readonly grantedTableNames: readonly string[];
}

/** The public surfaces of the GpuInference stack. */
export interface GpuInferenceTarget {
  readonly jobsTableName: string;
  readonly inferenceRequestsQueueUrl: string;
  readonly inferenceRequestsDeadLetterQueueUrl: string;
  readonly gpuWorkQueueUrl: string;
  readonly gpuWorkDeadLetterQueueUrl: string;
}

/** A deployed pipeline, as the e2e tests see it. */
export interface E2eTarget {
  /** How it was found: `outputs file <path>` or `CloudFormation stacks <names> in <region>`. */
  readonly source: string;
  readonly writePath: WritePathTarget;
  /** Absent when the deployment has no GpuInference stack (`cdk deploy -c gpu=false`). */
  readonly gpuInference?: GpuInferenceTarget;
}

/** Base of the target's errors. */
export class E2eTargetError extends Error {
  override readonly name: string = 'E2eTargetError';
}

/** A stack of the deployment lacks an output the suite needs. */
export class MissingStackOutputError extends E2eTargetError {
  override readonly name = 'MissingStackOutputError';
  constructor(
    readonly stackName: string,
    readonly key: string,
    readonly source: string,
  ) {
    super(
      `stack ${stackName} has no output ${key} (${source}); deploy the current app or check the stack name`,
    );
  }
}

/** The deployment has no stack of this name (e.g. GpuInference after `cdk deploy -c gpu=false`). */
export class MissingStackError extends E2eTargetError {
  override readonly name = 'MissingStackError';
  constructor(
    readonly stackName: string,
    readonly source: string,
    readonly found: readonly string[],
  ) {
    super(`no stack ${stackName} in ${source} (found: ${found.join(', ') || 'none'})`);
  }
}

/** `E2E_STACKS` was given but `@aws-sdk/client-cloudformation` is not installed. */
export class CloudFormationClientMissingError extends E2eTargetError {
  override readonly name = 'CloudFormationClientMissingError';
  constructor(options?: ErrorOptions) {
    super(
      'E2E_STACKS reads stack outputs with @aws-sdk/client-cloudformation, which is not installed: ' +
        '`npm install --save-dev @aws-sdk/client-cloudformation`, or pass E2E_OUTPUTS_FILE instead',
      options,
    );
  }
}

/** Neither `E2E_OUTPUTS_FILE` nor `E2E_STACKS` is set (the local cloud's setup sets the first). */
export class NoTargetError extends E2eTargetError {
  override readonly name = 'NoTargetError';
  constructor() {
    super(
      'no e2e target: set E2E_OUTPUTS_FILE=<cdk outputs file> or E2E_STACKS=WritePath,GpuInference, ' +
        'or run the e2e project (its global setup starts the local cloud)',
    );
  }
}

/**
 * The outputs of each stack, read as the environment says: `E2E_OUTPUTS_FILE` (a
 * `cdk deploy --outputs-file` file), else `E2E_STACKS` (CloudFormation `DescribeStacks` in
 * `E2E_REGION`, or the SDK's region).
 */
export async function readStackOutputs(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ readonly source: string; readonly outputs: StackOutputs }> {
  if (env.E2E_OUTPUTS_FILE) {
    const path = env.E2E_OUTPUTS_FILE;
    const text = await readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
      throw new E2eTargetError(`E2E_OUTPUTS_FILE ${path}: ${cause.code ?? cause.message}`, { cause });
    });
    return { source: `outputs file ${path}`, outputs: parseOutputs(text, path) };
  }
  if (env.E2E_STACKS) {
    const stacks = env.E2E_STACKS.split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    const region = env.E2E_REGION || undefined;
    return {
      source: `CloudFormation stacks ${stacks.join(', ')}${region ? ` in ${region}` : ''}`,
      outputs: await describeStacks(stacks, region),
    };
  }
  throw new NoTargetError();
}

/** The deployment's public surfaces from its stack outputs; throws `MissingStackOutputError` naming stack and key. */
export function targetOf(source: string, outputs: StackOutputs): E2eTarget {
  const found = Object.keys(outputs);
  const stack = (name: string) => {
    const values = outputs[name];
    if (values === undefined) throw new MissingStackError(name, source, found);
    return (key: string): string => {
      const value = values[key];
      if (value === undefined || value === '') throw new MissingStackOutputError(name, key, source);
      return value;
    };
  };
  const write = stack(STACKS.writePath);
  const writePath: WritePathTarget = {
    tableName: write('TableName'),
    ingestQueueUrl: write('IngestQueueUrl'),
    deadLetterQueueUrl: write('DeadLetterQueueUrl'),
    snapshotsTableName: write('SnapshotsTableName'),
    configChangesQueueUrl: write('ConfigChangesQueueUrl'),
    configChangesDeadLetterQueueUrl: write('ConfigChangesDeadLetterQueueUrl'),
    grantedTableNames: write('GrantedTableNames').split(','),
  };
  if (outputs[STACKS.gpuInference] === undefined) return { source, writePath };
  const gpu = stack(STACKS.gpuInference);
  return {
    source,
    writePath,
    gpuInference: {
      jobsTableName: gpu('JobsTableName'),
      inferenceRequestsQueueUrl: gpu('InferenceRequestsQueueUrl'),
      inferenceRequestsDeadLetterQueueUrl: gpu('InferenceRequestsDeadLetterQueueUrl'),
      gpuWorkQueueUrl: gpu('GpuWorkQueueUrl'),
      gpuWorkDeadLetterQueueUrl: gpu('GpuWorkDeadLetterQueueUrl'),
    },
  };
}

/** The GpuInference part of `target`; throws `MissingStackError` when the deployment has none. */
export function gpuInferenceOf(target: E2eTarget): GpuInferenceTarget {
  if (target.gpuInference === undefined) {
    throw new MissingStackError(STACKS.gpuInference, target.source, [STACKS.writePath]);
  }
  return target.gpuInference;
}

let resolved: Promise<E2eTarget> | undefined;

/**
 * The target of this run, resolved once per test worker.
 *
 * @example
 * const { writePath } = await e2eTarget();
 */
export function e2eTarget(): Promise<E2eTarget> {
  resolved ??= readStackOutputs().then(({ source, outputs }) => targetOf(source, outputs));
  return resolved;
}

function parseOutputs(text: string, path: string): StackOutputs {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new E2eTargetError(`E2E_OUTPUTS_FILE ${path} is not JSON`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new E2eTargetError(
      `E2E_OUTPUTS_FILE ${path}: expected { "<StackName>": { "<OutputKey>": "<value>" } }`,
    );
  }
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([stack, values]) => [
      stack,
      Object.fromEntries(
        Object.entries((values ?? {}) as Record<string, unknown>).map(([key, v]) => [key, String(v)]),
      ),
    ]),
  );
}

/** The part of `@aws-sdk/client-cloudformation` used here (it is loaded only when `E2E_STACKS` is set). */
interface CloudFormationModule {
  readonly CloudFormationClient: new (config: {
    region?: string;
  }) => {
    send(command: unknown): Promise<{
      readonly Stacks?: readonly {
        readonly StackName?: string;
        readonly Outputs?: readonly { readonly OutputKey?: string; readonly OutputValue?: string }[];
      }[];
    }>;
    destroy(): void;
  };
  readonly DescribeStacksCommand: new (input: { StackName: string }) => unknown;
}

async function describeStacks(stacks: readonly string[], region: string | undefined): Promise<StackOutputs> {
  // A specifier TypeScript does not resolve: the package is optional, not a dependency.
  const specifier = '@aws-sdk/client-cloudformation';
  const cfn = (await import(specifier).catch((cause: unknown) => {
    throw new CloudFormationClientMissingError({ cause });
  })) as CloudFormationModule;
  const client = new cfn.CloudFormationClient(region ? { region } : {});
  try {
    const described = await Promise.all(
      stacks.map(async (name) => {
        const { Stacks } = await client.send(new cfn.DescribeStacksCommand({ StackName: name }));
        const outputs = Stacks?.[0]?.Outputs ?? [];
        return [
          name,
          Object.fromEntries(outputs.map((output) => [output.OutputKey ?? '', output.OutputValue ?? ''])),
        ] as const;
      }),
    );
    return Object.fromEntries(described);
  } finally {
    client.destroy();
  }
}
