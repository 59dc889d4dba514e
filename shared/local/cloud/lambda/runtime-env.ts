import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  integerOption,
  numberOption,
  type OptionsSchema,
  parseOptions,
  textOption,
} from '../../../core/options.ts';

/** The execution role's credentials, as Lambda hands them to the function. */
export interface LambdaCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface LambdaRuntimeEnvOptions {
  readonly functionName: string;
  readonly memoryMiB: number;
  /**
   * Lambda sets no variable for the timeout; it is only checked here (1–900 s), so that one settings
   * object can feed both this function and `FunctionPool`.
   */
  readonly timeoutSeconds?: number;
  readonly region: string;
  /** The template's `Handler`, e.g. `index.handler`. */
  readonly handler: string;
  /** The folder holding the function's code (its asset in `cdk.out`); Lambda's `/var/task`. Made absolute. */
  readonly taskRoot: string;
  /** @default `/aws/lambda/<functionName>` */
  readonly logGroupName?: string;
  /** @default `<yyyy>/<mm>/<dd>/[$LATEST]<32 hex digits>`, fresh on every call */
  readonly logStreamName?: string;
  /** Where the runtime's own libraries lie (`LAMBDA_RUNTIME_DIR`, part of `NODE_PATH`). @default '/var/runtime' */
  readonly runtimeDir?: string;
  readonly credentials: LambdaCredentials;
}

const LambdaRuntimeEnvOptionsSchema = z.object({
  functionName: textOption('a function name'),
  memoryMiB: integerOption(128, 10_240),
  timeoutSeconds: numberOption(1, 900).optional(),
  region: textOption('a region, e.g. us-east-1'),
  handler: textOption('a handler, e.g. index.handler'),
  taskRoot: textOption('the path of the function code folder'),
  logGroupName: textOption('a log group name').optional(),
  logStreamName: textOption('a log stream name').optional(),
  runtimeDir: textOption('a folder path').default('/var/runtime'),
  credentials: z.object(
    {
      accessKeyId: textOption('an access key id'),
      secretAccessKey: textOption('a secret access key'),
      sessionToken: textOption('a session token').optional(),
    },
    { error: '{ accessKeyId, secretAccessKey, sessionToken? }' },
  ),
}) satisfies OptionsSchema<LambdaRuntimeEnvOptions>;

/**
 * Variables a function cannot set on Lambda (its configuration is refused); the runtime sets those
 * that apply. Lambda's "Defined runtime environment variables", reserved column.
 */
export const RESERVED_ENV_VARIABLES = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'TZ',
] as const;

const RESERVED: ReadonlySet<string> = new Set(RESERVED_ENV_VARIABLES);

/** Lambda's `PATH` for Node.js runtimes; every folder but `/var/lang/bin` and `/opt/bin` exists on a Linux host too. */
const LAMBDA_PATH = '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin';

/**
 * The variables Lambda's Node.js 24 runtime sets for a function: the reserved ones, plus `PATH`,
 * `LANG` and `NODE_PATH`, which a function may override. Left out: `_X_AMZN_TRACE_ID` (per
 * invocation, with tracing), `AWS_LAMBDA_RUNTIME_API` (instances are served over IPC, not the
 * runtime API), `LD_LIBRARY_PATH` (Lambda's value would change how the host's `node` loads its
 * libraries).
 *
 * @throws InvalidOptionError when an option is missing or out of range.
 * @example
 * const env = mergeFunctionEnv(
 *   lambdaRuntimeEnv({ functionName, memoryMiB: 1024, region, handler: 'index.handler', taskRoot, credentials }),
 *   templateVariables,
 * );
 */
export function lambdaRuntimeEnv(options: LambdaRuntimeEnvOptions): Record<string, string> {
  const o = parseOptions('lambdaRuntimeEnv', LambdaRuntimeEnvOptionsSchema, options);
  const { accessKeyId, secretAccessKey, sessionToken } = o.credentials;
  const taskRoot = resolve(o.taskRoot);
  return {
    AWS_REGION: o.region,
    AWS_DEFAULT_REGION: o.region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: o.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMiB),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: o.logGroupName ?? `/aws/lambda/${o.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: o.logStreamName ?? logStreamName(),
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    ...(sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: sessionToken }),
    _HANDLER: o.handler,
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: o.runtimeDir,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: LAMBDA_PATH,
    NODE_PATH: [
      '/opt/nodejs/node24/node_modules',
      '/opt/nodejs/node_modules',
      `${o.runtimeDir}/node_modules`,
      o.runtimeDir,
      taskRoot,
    ].join(':'),
  };
}

/**
 * A function instance's environment: the runtime's variables, then the function's own (from its
 * template's `Environment.Variables`) over them, then the reserved runtime variables over those.
 * So a function can override `PATH`, `LANG`, `NODE_PATH` or add anything else, but never a reserved
 * variable: one it sets is replaced by the runtime's value, or dropped when the runtime sets none.
 * (Lambda refuses such a configuration outright; `reservedVariablesIn` finds them for a warning.)
 */
export function mergeFunctionEnv(
  runtimeEnv: Readonly<Record<string, string>>,
  functionVariables: Readonly<Record<string, string>>,
): Record<string, string> {
  const merged: Record<string, string> = { ...runtimeEnv };
  for (const [name, value] of Object.entries(functionVariables)) {
    if (!RESERVED.has(name)) merged[name] = value;
  }
  return merged;
}

/** The names in `variables` that Lambda reserves (sorted), e.g. to warn about a template that sets one. */
export function reservedVariablesIn(variables: Readonly<Record<string, string>>): string[] {
  return Object.keys(variables)
    .filter((name) => RESERVED.has(name))
    .sort();
}

function logStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}
