import { localCredentials } from './client-config.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { type LocalEnv, localEnv } from './local-env.ts';
import { type SqsPlacement, startSqsLocal } from './sqs-local.ts';

/** Where the local DynamoDB and SQS answer. */
export interface LocalEndpoints {
  readonly region: string;
  readonly dynamodb: string;
  readonly sqs: string;
}

/** The local AWS stack: emulators this process started, or an external endpoint (LocalStack). */
export interface EmbeddedAws extends AsyncDisposable {
  readonly endpoints: LocalEndpoints;
  /** False when `AWS_ENDPOINT_URL` was set and nothing was started. */
  readonly started: boolean;
  /** Stops what was started (kills the JVM and waits for it, closes the SQS server). Safe to call twice. */
  stop(): Promise<void>;
}

export interface EmbeddedAwsOptions {
  readonly log?: (line: string) => void;
  /** The environment to honour. @default localEnv() */
  readonly env?: LocalEnv;
  /** Where local-aws-sqs runs; benchmarks give it a process (and a core) of its own. @default 'in-process' */
  readonly sqs?: SqsPlacement;
}

/** Region used when neither `AWS_REGION` nor `AWS_DEFAULT_REGION` is set. */
export const DEFAULT_LOCAL_REGION = 'us-east-1';

/** `localCredentials` as the SDK's environment variables. */
const LOCAL_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
} as const;

/**
 * Starts DynamoDB Local and local-aws-sqs on ephemeral ports, or, when `AWS_ENDPOINT_URL` is set
 * (LocalStack), starts nothing and points both services at it.
 *
 * @example
 * await using aws = await startEmbeddedAws();
 * Object.assign(process.env, endpointEnv(aws.endpoints));
 */
export async function startEmbeddedAws(options: EmbeddedAwsOptions = {}): Promise<EmbeddedAws> {
  const env = options.env ?? localEnv();
  const region = env.region ?? DEFAULT_LOCAL_REGION;
  if (env.sharedEndpoint) {
    options.log?.(`using AWS_ENDPOINT_URL ${env.sharedEndpoint}; starting no emulator`);
    return embedded({ region, dynamodb: env.sharedEndpoint, sqs: env.sharedEndpoint }, false, async () => {});
  }
  const [dynamodb, sqs] = await Promise.allSettled([
    startDynamoDbLocal({ log: options.log }),
    startSqsLocal(region, options.sqs),
  ]);
  if (dynamodb.status === 'rejected' || sqs.status === 'rejected') {
    if (dynamodb.status === 'fulfilled') await dynamodb.value.stop();
    if (sqs.status === 'fulfilled') await sqs.value.stop();
    throw dynamodb.status === 'rejected' ? dynamodb.reason : (sqs as PromiseRejectedResult).reason;
  }
  options.log?.(`local-aws-sqs ${sqs.value.endpoint}`);
  const endpoints = { region, dynamodb: dynamodb.value.endpoint, sqs: sqs.value.endpoint };
  return embedded(endpoints, true, async () => {
    await Promise.all([dynamodb.value.stop(), sqs.value.stop()]);
  });
}

function embedded(endpoints: LocalEndpoints, started: boolean, stopAll: () => Promise<void>): EmbeddedAws {
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= stopAll();
    return stopped;
  };
  return { endpoints, started, stop, [Symbol.asyncDispose]: stop };
}

/**
 * The `AWS_*` variables that point the SDK (and the AWS CLI) at `endpoints`. With an external
 * `AWS_ENDPOINT_URL` the caller's credentials and region win; dummy ones fill in only what is missing.
 */
export function endpointEnv(endpoints: LocalEndpoints, env: LocalEnv = localEnv()): Record<string, string> {
  const vars: Record<string, string> = {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
  };
  if (!env.sharedEndpoint) return { ...vars, AWS_REGION: endpoints.region, ...LOCAL_CREDENTIALS };
  if (!env.region) vars.AWS_REGION = endpoints.region;
  return env.hasCredentials ? vars : { ...vars, ...LOCAL_CREDENTIALS };
}
