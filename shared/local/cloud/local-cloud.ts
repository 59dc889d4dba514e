import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../aws/client-config.ts';
import type { LocalEndpoints } from '../aws/embedded.ts';
import { spawnLocalWorker } from '../ecs/gpu-worker-process.ts';
import { InFlightJournal } from '../lambda/in-flight-journal.ts';
import { SqsEventSourcePoller } from '../lambda/poller.ts';
import { ensureShelfClassifier } from '../model/build-model.ts';
import type { LocalStack } from '../resources/stack-file.ts';
import { writeStateFile } from '../state-file.ts';
import type { CloudAssembly } from './assembly.ts';
import {
  applyDeployment,
  destroyDeployment,
  type LocalDeployment,
  type LocalFunctionSpec,
  type LocalRoleSpec,
  planDeployment,
} from './deploy.ts';
import { type LocalEcs, startLocalEcs } from './ecs/index.ts';
import { IamEvaluator, type IamGateway, LocalIdentities, startIamGateway } from './iam/index.ts';
import { FunctionPool, lambdaRuntimeEnv, mergeFunctionEnv, poolHandler } from './lambda/index.ts';

export interface LocalCloudOptions {
  readonly assembly: CloudAssembly;
  /** Where DynamoDB and SQS answer (the embedded emulators, or LocalStack). */
  readonly endpoints: LocalEndpoints;
  /** The account ARNs name: local-aws-sqs's (123456789012) or LocalStack's (000000000000). @default '123456789012' */
  readonly account?: string;
  /** Before every generated resource name: deploys the app beside another copy (tests). @default '' */
  readonly namePrefix?: string;
  /** Only these stacks (and nothing else) are deployed and run. @default every stack */
  readonly stacks?: readonly string[];
  /** Model repository of the local GPU workers. @default the demo model, built on demand (`ensureShelfClassifier`) */
  readonly modelRepository?: string;
  /** Gets each log line of every function instance and ECS task. @default dropped */
  readonly onFunctionLog?: (line: string, source: { readonly functionName: string }) => void;
  /** Gets poller errors (failed receives, handler errors). @default dropped */
  readonly onError?: (error: unknown) => void;
  readonly log?: (line: string) => void;
  /**
   * A file where every event source records the messages it holds (`InFlightJournal`). On start,
   * the messages a killed run held are made visible again at once instead of after their
   * visibility timeout. @default no journal
   */
  readonly inFlightJournal?: string;
  /**
   * Ports for the IAM gateways (an ephemeral one when taken): the same ports give the same queue
   * URLs, so a restart's outputs equal the previous run's. @default ephemeral ports
   */
  readonly gatewayPorts?: { readonly dynamodb?: number; readonly sqs?: number };
}

/** The cloud assembly running locally: its resources, functions, event sources and IAM. */
export interface LocalCloud extends AsyncDisposable {
  readonly deployment: LocalDeployment;
  /** What functions and tools reach: the IAM-checking gateways in front of DynamoDB and SQS. */
  readonly endpoints: LocalEndpoints;
  readonly iam: IamEvaluator;
  readonly pollers: ReadonlyMap<string, SqsEventSourcePoller>;
  /**
   * Every function, by name: those an event source drives, and the others (a scheduled one, whose
   * schedule is not emulated) to invoke directly.
   */
  readonly functions: ReadonlyMap<string, FunctionPool>;
  /** The ECS API and agent endpoints, and the services whose tasks run as local worker processes. */
  readonly ecs: LocalEcs;
  /** Messages a previous run left in flight that `inFlightJournal` made visible again at start (0 without a journal). */
  readonly orphansReleased: number;
  /**
   * Messages of the event sources' queues still invisible once the orphans were released (0 without
   * a journal): those of a receive whose answer the killed run never saw. They return after the
   * queue's visibility timeout.
   */
  readonly orphansStranded: number;
  /** `deployment.outputs` of one stack; throws when it has no such output. */
  output(stack: string, name: string): string;
  /** Resolves once every event source's queue is empty and no invocation runs. */
  drain(timeoutMs?: number): Promise<void>;
  /** Stops pollers (letting running invocations finish), function instances and gateways; resources stay. */
  stop(): Promise<void>;
  /** Deletes the deployment's tables and queues (after `stop`). */
  destroy(): Promise<void>;
}

/**
 * "Deploys" the synthesized app onto local DynamoDB and SQS the way CloudFormation would, then runs
 * it: each function from its bundled asset with the template's environment and its role's
 * credentials, each SQS event source mapping with its template settings, every call checked
 * against the role's policies by IAM gateways.
 *
 * @example
 * const cloud = await startLocalCloud({ assembly: await synthesize({ projectRoot }), endpoints: aws.endpoints });
 * const queueUrl = cloud.output('WritePath', 'IngestQueueUrl');
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const account = options.account ?? '123456789012';
  const { region } = options.endpoints;
  const assembly = options.stacks
    ? { ...options.assembly, stacks: options.assembly.stacks.filter((s) => options.stacks!.includes(s.name)) }
    : options.assembly;
  // Roles and policies name ARNs only: plan once to know them, start the gateways, plan again with
  // the queue URLs of the SQS gateway.
  const namePrefix = options.namePrefix ?? '';
  const draft = planDeployment(assembly, { region, account, namePrefix, sqsOrigin: options.endpoints.sqs });
  const identities = new LocalIdentities(draft.roles);
  const iam = new IamEvaluator(draft.roles, { resourcePolicies: draft.queuePolicies });
  const gateways: IamGateway[] = [];
  const gateway = async (service: 'dynamodb' | 'sqs', upstream: string) => {
    const port = options.gatewayPorts?.[service];
    const started = await startIamGateway({
      service,
      upstream,
      evaluator: iam,
      identities,
      region,
      account,
      ...(port === undefined ? {} : { port }),
    });
    gateways.push(started);
    return started.url;
  };
  const endpoints: LocalEndpoints = {
    region,
    dynamodb: await gateway('dynamodb', options.endpoints.dynamodb),
    sqs: await gateway('sqs', options.endpoints.sqs),
  };
  const deployment = planDeployment(assembly, { region, account, namePrefix, sqsOrigin: endpoints.sqs });
  const admin = {
    dynamodb: new DynamoDBClient(localClientConfig(endpoints.dynamodb, region)),
    sqs: new SQSClient(localClientConfig(endpoints.sqs, region)),
  };
  await applyDeployment(assembly, deployment, admin);
  if (deployment.notEmulated.size > 0) {
    options.log?.(
      `not emulated: ${[...deployment.notEmulated].map(([type, count]) => `${type} ×${count}`).join(', ')}`,
    );
  }

  // ECS: the API the dispatcher scales with, and each service's tasks as local worker processes
  // (the worker's source on CPU, not its image) with the task role's credentials.
  const modelRepository =
    deployment.ecsServices.length === 0
      ? ''
      : (options.modelRepository ?? (await ensureShelfClassifier()).repository);
  const ecs = await startLocalEcs({
    services: deployment.ecsServices,
    evaluator: iam,
    identities,
    region,
    account,
    ...(options.log ? { log: options.log } : {}),
    launch: (task, service) => {
      const role = deployment.roles.find((r) => r.arn === service.taskRoleArn);
      const credentials = role
        ? identities.credentialsFor(role)
        : { accessKeyId: 'none', secretAccessKey: 'none' };
      return spawnLocalWorker({
        env: {
          ...task.env,
          MODEL_REPOSITORY: modelRepository,
          EXECUTION_PROVIDER: 'cpu',
          // A GPU task has its instance to itself; here tasks share the machine's cores with the
          // function instances, and ONNX Runtime's default thread pool spins on every core between calls.
          INTRA_OP_THREADS: task.env.INTRA_OP_THREADS ?? '1',
          READY_FILE: '',
          // local-aws-sqs answers a long poll only once it has MaxNumberOfMessages.
          RECEIVE_WAIT_SECONDS: '0',
          ECS_AGENT_URI: task.agentUri,
          AWS_REGION: region,
          AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
          AWS_ENDPOINT_URL_SQS: endpoints.sqs,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        },
        onLine: (line) => options.onFunctionLog?.(line, { functionName: service.name }),
      });
    },
  });

  // Before any poller receives: what a killed run held is visible again now, not in 360 s.
  const journal = options.inFlightJournal ? new InFlightJournal(options.inFlightJournal) : undefined;
  const orphansReleased = journal ? await journal.releaseOrphans(admin.sqs, { origin: endpoints.sqs }) : 0;
  if (orphansReleased > 0)
    options.log?.(`released ${orphansReleased} message(s) a previous run left in flight`);
  const orphansStranded = journal ? await stillInvisible(admin.sqs, deployment) : 0;
  if (orphansStranded > 0) {
    options.log?.(
      `${orphansStranded} message(s) stay invisible until their visibility timeout: ` +
        'a previous run was killed before it saw the answer to their receive',
    );
  }

  const functions = new Map<string, FunctionPool>();
  const pollers = new Map<string, SqsEventSourcePoller>();
  /** One pool per function, with its role's credentials and its template environment. */
  const poolOf = async (spec: LocalFunctionSpec, role: LocalRoleSpec, maxInstances: number) => {
    const existing = functions.get(spec.name);
    if (existing) return existing;
    const pool = new FunctionPool({
      functionName: spec.name,
      taskRoot: spec.assetDir,
      handler: spec.handler,
      timeoutMs: spec.timeoutSeconds * 1000,
      memoryMiB: spec.memoryMiB,
      maxInstances,
      // Reserved runtime variables win over the template's, as on Lambda.
      env: mergeFunctionEnv(
        lambdaRuntimeEnv({
          functionName: spec.name,
          memoryMiB: spec.memoryMiB,
          timeoutSeconds: spec.timeoutSeconds,
          region,
          handler: spec.handler,
          taskRoot: spec.assetDir,
          ...(spec.logGroupName ? { logGroupName: spec.logGroupName } : {}),
          credentials: identities.credentialsFor(role),
        }),
        {
          ...spec.environment,
          // The local cloud's redirection: the SDK inside the bundle reaches the gateways.
          AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
          AWS_ENDPOINT_URL_SQS: endpoints.sqs,
          AWS_ENDPOINT_URL_ECS: ecs.url,
        },
      ),
      onLog: (line) => options.onFunctionLog?.(line, { functionName: spec.name }),
    });
    functions.set(spec.name, pool);
    // The Lambda runtime writes the function's logs with its role (stdout here).
    if (spec.logGroupName) {
      const logGroup = `arn:aws:logs:${region}:${account}:log-group:${spec.logGroupName}:*`;
      for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents'])
        await iam.recordPlatformUse(role, { action, resource: logGroup });
    }
    return pool;
  };
  for (const mapping of deployment.eventSourceMappings.filter((m) => m.enabled)) {
    const spec = deployment.functions.find((f) => f.name === mapping.functionName);
    const queue = deployment.queues.find((q) => q.arn === mapping.queueArn);
    const role = deployment.roles.find((r) => r.arn === spec?.roleArn);
    if (!spec || !queue || !role) continue;
    const credentials = identities.credentialsFor(role);
    const concurrency = Math.min(spec.reservedConcurrency ?? Infinity, mapping.maximumConcurrency ?? 5);
    const pool = await poolOf(spec, role, concurrency);
    // Lambda's pollers act with the function's role.
    const sqs = new SQSClient({ endpoint: endpoints.sqs, region, credentials });
    const poller = new SqsEventSourcePoller({
      sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      handler: poolHandler(pool),
      batchSize: mapping.batchSize,
      maxBatchingWindowMs: mapping.maximumBatchingWindowSeconds * 1000,
      maxConcurrency: concurrency,
      timeoutMs: spec.timeoutSeconds * 1000,
      // The pool enforces the function timeout from the handler's start; a cold start's init comes on top.
      initAllowanceMs: pool.initTimeoutMs,
      functionName: spec.name,
      onError: options.onError ?? (() => {}),
      ...(journal ? { inFlight: journal } : {}),
    });
    pollers.set(mapping.logicalId, poller);
  }
  // Functions no event source drives (the scheduled rollout controller): a pool to invoke directly.
  // Their EventBridge schedules are not emulated (`notEmulated`); nothing invokes them on its own.
  for (const spec of deployment.functions) {
    const role = deployment.roles.find((r) => r.arn === spec.roleArn);
    if (role && !functions.has(spec.name)) await poolOf(spec, role, spec.reservedConcurrency ?? 1);
  }
  await Promise.all([...pollers.values()].map((poller) => poller.start()));

  const stop = async () => {
    await Promise.all([...pollers.values()].map((poller) => poller.stop()));
    await Promise.all([...functions.values()].map((pool) => pool.stop()));
    await ecs.stop();
    await Promise.all(gateways.map((started) => started.stop()));
  };
  let stopped: Promise<void> | undefined;
  const stopOnce = () => {
    stopped ??= stop();
    return stopped;
  };
  return {
    deployment,
    endpoints,
    iam,
    pollers,
    functions,
    ecs,
    orphansReleased,
    orphansStranded,
    output(stack, name) {
      const value = deployment.outputs[stack]?.[name];
      if (value === undefined) throw new RangeError(`stack ${stack} has no output ${name}`);
      return String(value);
    },
    async drain(timeoutMs = 60_000) {
      await Promise.all([...pollers.values()].map((poller) => poller.drain({ timeoutMs })));
    },
    stop: stopOnce,
    async destroy() {
      await destroyDeployment(deployment, {
        dynamodb: new DynamoDBClient(localClientConfig(options.endpoints.dynamodb, region)),
        sqs: new SQSClient(localClientConfig(options.endpoints.sqs, region)),
      });
    },
    [Symbol.asyncDispose]: stopOnce,
  };
}

/** In-flight messages of the event sources' queues: before the pollers start, nobody here holds them. */
async function stillInvisible(sqs: SQSClient, deployment: LocalDeployment): Promise<number> {
  const sources = new Set(deployment.eventSourceMappings.filter((m) => m.enabled).map((m) => m.queueArn));
  const counts = await Promise.all(
    deployment.queues
      .filter((queue) => sources.has(queue.arn))
      .map(async (queue) => {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queue.url,
            AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
      }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Writes `outputs` in the shape of `cdk deploy --outputs-file` (stack → output → value), atomically. */
export async function writeOutputsFile(
  outputs: LocalDeployment['outputs'],
  path = join('.local', 'outputs.json'),
): Promise<void> {
  writeStateFile(path, outputs);
}

/** The deployment as `.local/stack.json` describes a local stack (for the CLI and other tools). */
export function stackFileOf(cloud: Pick<LocalCloud, 'deployment' | 'endpoints'>): LocalStack {
  const write = cloud.deployment.outputs.WritePath ?? {};
  const inference = cloud.deployment.outputs.GpuInference;
  const text = (value: unknown) => String(value);
  return {
    region: cloud.endpoints.region,
    endpoints: { dynamodb: cloud.endpoints.dynamodb, sqs: cloud.endpoints.sqs },
    queues: {
      ingest: { url: text(write.IngestQueueUrl), dlqUrl: text(write.DeadLetterQueueUrl) },
      'config-changes': {
        url: text(write.ConfigChangesQueueUrl),
        dlqUrl: text(write.ConfigChangesDeadLetterQueueUrl),
      },
      ...(inference
        ? {
            'inference-requests': {
              url: text(inference.InferenceRequestsQueueUrl),
              dlqUrl: text(inference.InferenceRequestsDeadLetterQueueUrl),
            },
          }
        : {}),
    },
    tables: {
      items: text(write.TableName),
      snapshots: text(write.SnapshotsTableName),
      ...(inference ? { jobs: text(inference.JobsTableName) } : {}),
    },
    grantedTables: text(write.GrantedTableNames).split(','),
  };
}
