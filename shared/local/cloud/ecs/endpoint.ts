import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { PipelineError } from '../../../core/errors.ts';
import {
  functionOption,
  InvalidOptionError,
  integerOption,
  numberOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
  textOption,
} from '../../../core/options.ts';
import {
  type IamEvaluator,
  type IamGateway,
  type LocalIdentities,
  sessionArn,
  startIamGateway,
} from '../iam/index.ts';
import {
  type EcsServiceSpec,
  type EcsTaskHandle,
  type EcsTaskLaunch,
  InvalidDesiredCountError,
  InvalidTaskProtectionError,
  LocalEcsService,
  LocalEcsServiceStoppedError,
} from './service.ts';

/** One UpdateService that set a desired count. */
export interface EcsScaleChange {
  readonly serviceArn: string;
  readonly serviceName: string;
  readonly previousDesiredCount: number;
  readonly desiredCount: number;
}

export interface LocalEcsOptions {
  /** The services to run: `LocalDeployment.ecsServices`. Each starts at desired count 0. */
  readonly services: readonly EcsServiceSpec[];
  readonly evaluator: IamEvaluator;
  readonly identities: LocalIdentities;
  /** Region and account of the ARNs; they must match the roles' resolved policies. */
  readonly region: string;
  readonly account: string;
  /**
   * Starts a task of `service` (e.g. `spawnLocalWorker` with `task.env`, the task role's credentials,
   * the gateways' endpoints and `ECS_AGENT_URI: task.agentUri`).
   * @default a placeholder task: no process, running until it is stopped
   */
  readonly launch?: (task: EcsTaskLaunch, service: EcsServiceSpec) => EcsTaskHandle;
  /** The largest desired count UpdateService takes (ECS's own limit is 5,000 tasks a service). @default 10 */
  readonly maxDesiredCount?: number;
  /** Between SIGTERM and kill when a task is stopped. @default 30_000 */
  readonly stopGraceMs?: number;
  /** Gets every UpdateService that carried a desired count, changed or not. @default none */
  readonly onScale?: (change: EcsScaleChange) => void;
  /** One line per refused call, task that exited on its own or failed launch. @default dropped */
  readonly log?: (line: string) => void;
}

const LocalEcsOptionsSchema = z.object({
  services: z.array(objectOption<EcsServiceSpec>('an ECS service of the deployment'), {
    error: 'a list of ECS services (LocalDeployment.ecsServices)',
  }),
  evaluator: objectOption<IamEvaluator>('an IamEvaluator'),
  identities: objectOption<LocalIdentities>('a LocalIdentities'),
  region: textOption('a region, e.g. us-east-1'),
  account: textOption('a 12-digit account id'),
  launch: functionOption<(task: EcsTaskLaunch, service: EcsServiceSpec) => EcsTaskHandle>().optional(),
  maxDesiredCount: integerOption(0, 5000).optional(),
  stopGraceMs: numberOption(0).optional(),
  onScale: functionOption<(change: EcsScaleChange) => void>().optional(),
  log: functionOption<(line: string) => void>().optional(),
}) satisfies OptionsSchema<LocalEcsOptions>;

/** A running local ECS. */
export interface LocalEcs extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: the ECS endpoint to give SDK clients (`AWS_ENDPOINT_URL_ECS`). */
  readonly url: string;
  readonly services: readonly LocalEcsService[];
  /** The `ECS_AGENT_URI` of a task (`<url>/api/<task id>`); its task-protection endpoint lies below it. */
  agentUri(taskArn: string): string;
  /** The service with this ARN. */
  service(arn: string): LocalEcsService | undefined;
  /** Stops every task, then the servers. Safe to call twice. */
  stop(): Promise<void>;
}

/** ECS's cluster when a request names none. */
const DEFAULT_CLUSTER = 'default';
const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
/** ECS describes at most this many services a call. */
const MAX_DESCRIBED_SERVICES = 10;
const AGENT_PATH = /^\/api\/([0-9a-f]{32})\/task-protection\/v1\/state$/;

/** A refusal in ECS's terms: `__type` of the JSON 1.1 answer, or `Code` of the agent's. */
class EcsApiError extends PipelineError {
  readonly code = 'ECS_API_ERROR';
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Input = Readonly<Record<string, unknown>>;
type Answer = { readonly status: number; readonly body: unknown };

/**
 * The ECS API and the ECS agent's task-protection endpoint, locally. `url` answers the JSON 1.1
 * calls the dispatcher makes: DescribeServices and UpdateService (desired count only), every one
 * checked against the caller's role by the local IAM gateway (`startIamGateway`), which stands in
 * front and refuses as AWS does (AccessDeniedException naming action and resource; admin keys pass).
 * Each service keeps its task count at the desired count through `launch` (`LocalEcsService`).
 * `agentUri(taskArn)` answers `GET`/`PUT <agentUri>/task-protection/v1/state` in the agent's shape,
 * checked as `ecs:GetTaskProtection`/`ecs:UpdateTaskProtection` on the task with its task role, as
 * the agent calls ECS with the task role's credentials.
 *
 * @example
 * const ecs = await startLocalEcs({ services: deployment.ecsServices, evaluator, identities, region, account, launch });
 * const client = new ECSClient({ endpoint: ecs.url, region, credentials: identities.credentialsFor(role) });
 */
export async function startLocalEcs(options: LocalEcsOptions): Promise<LocalEcs> {
  const o = parseOptions('startLocalEcs', LocalEcsOptionsSchema, options);
  const seen = new Set<string>();
  for (const spec of o.services) {
    if (seen.has(spec.arn)) {
      throw new InvalidOptionError('startLocalEcs', 'services', spec.arn, 'services with distinct ARNs');
    }
    seen.add(spec.arn);
  }
  // Tasks launch only once a desired count is set, by which time the gateway's origin is known.
  let origin = '';
  const agentUri = (taskArn: string) => `${origin}/api/${taskArn.split('/').at(-1)}`;
  const launch = o.launch ?? placeholderTask;
  const services = o.services.map(
    (spec) =>
      new LocalEcsService({
        spec,
        launch: (task) => launch(task, spec),
        agentUri,
        ...(o.maxDesiredCount === undefined ? {} : { maxDesiredCount: o.maxDesiredCount }),
        ...(o.stopGraceMs === undefined ? {} : { stopGraceMs: o.stopGraceMs }),
        ...(o.log ? { log: o.log } : {}),
      }),
  );
  const ctx: Context = { ...o, services };
  const server = createServer((req, res) => {
    const agent = isAgentCall(req);
    handle(ctx, req).then(
      (answered) => send(res, answered, agent),
      (error: unknown) => send(res, faultAnswer(error), agent),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let gateway: IamGateway;
  try {
    // Unsigned, the agent's calls pass the gateway unchecked: `agentCall` checks them with the task role.
    gateway = await startIamGateway({
      service: 'ecs',
      upstream: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      evaluator: o.evaluator,
      identities: o.identities,
      region: o.region,
      account: o.account,
      ...(o.log ? { log: o.log } : {}),
    });
  } catch (error) {
    await close(server);
    throw error;
  }
  origin = gateway.url;

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await Promise.all(services.map((service) => service.stop()));
      await gateway.stop();
      await close(server);
    })();
    return stopped;
  };
  return {
    url: gateway.url,
    services,
    agentUri,
    service: (arn) => services.find((service) => service.arn === arn),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

type Context = Omit<z.output<typeof LocalEcsOptionsSchema>, 'services'> & {
  readonly services: readonly LocalEcsService[];
};

async function handle(ctx: Context, req: IncomingMessage): Promise<Answer> {
  const body = await readBody(req);
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const agent = AGENT_PATH.exec(path);
  if (agent) return agentCall(ctx, agent[1]!, req.method ?? 'GET', body);
  if (req.method === 'POST' && path === '/') return { status: 200, body: apiCall(ctx, req, body) };
  throw new EcsApiError('UnknownOperationException', `no ECS operation at ${req.method} ${path}`, 404);
}

function apiCall(ctx: Context, req: IncomingMessage, body: Buffer): unknown {
  const target = String(req.headers['x-amz-target'] ?? '');
  const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  const input = parseInput(body);
  if (operation === 'DescribeServices') return describeServices(ctx, input);
  if (operation === 'UpdateService') return updateService(ctx, input);
  throw new EcsApiError(
    'UnknownOperationException',
    `the local ECS answers DescribeServices and UpdateService, not ${operation || target || '(no X-Amz-Target)'}`,
  );
}

function describeServices(ctx: Context, input: Input): unknown {
  const cluster = clusterOf(ctx, input);
  const names = input.services;
  if (
    !Array.isArray(names) ||
    names.length === 0 ||
    names.length > MAX_DESCRIBED_SERVICES ||
    !names.every((name) => typeof name === 'string')
  ) {
    throw new EcsApiError(
      'InvalidParameterException',
      `services must list 1 to ${MAX_DESCRIBED_SERVICES} service names or ARNs`,
    );
  }
  const services: unknown[] = [];
  const failures: unknown[] = [];
  for (const name of names as string[]) {
    const service = serviceIn(cluster, name);
    if (service) services.push(describe(service));
    else failures.push({ arn: serviceArn(ctx, cluster.name, name), reason: 'MISSING' });
  }
  return { services, failures };
}

function updateService(ctx: Context, input: Input): unknown {
  const cluster = clusterOf(ctx, input);
  if (typeof input.service !== 'string' || input.service === '') {
    throw new EcsApiError('InvalidParameterException', 'service must name a service or its ARN');
  }
  const unsupported = Object.keys(input).filter(
    (key) => !['cluster', 'service', 'desiredCount'].includes(key),
  );
  if (unsupported.length > 0) {
    throw new EcsApiError(
      'InvalidParameterException',
      `the local ECS updates desiredCount only, not ${unsupported.join(', ')}`,
    );
  }
  const service = serviceIn(cluster, input.service);
  if (!service) throw new EcsApiError('ServiceNotFoundException', 'Service not found.');
  if (input.desiredCount !== undefined) {
    const previousDesiredCount = service.desiredCount;
    try {
      service.setDesiredCount(input.desiredCount as number);
    } catch (error) {
      if (error instanceof InvalidDesiredCountError)
        throw new EcsApiError('InvalidParameterException', error.message);
      if (error instanceof LocalEcsServiceStoppedError)
        throw new EcsApiError('ServiceNotActiveException', 'Service was not ACTIVE.');
      throw error;
    }
    ctx.onScale?.({
      serviceArn: service.arn,
      serviceName: service.name,
      previousDesiredCount,
      desiredCount: service.desiredCount,
    });
  }
  return { service: describe(service) };
}

interface Cluster {
  readonly name: string;
  readonly services: readonly LocalEcsService[];
}

/** The cluster a request names (by name or ARN, `default` when it names none), known by its services. */
function clusterOf(ctx: Context, input: Input): Cluster {
  const named = typeof input.cluster === 'string' && input.cluster !== '' ? input.cluster : DEFAULT_CLUSTER;
  const services = ctx.services.filter(
    (service) => service.clusterName === named || service.clusterArn === named,
  );
  if (services.length === 0) throw new EcsApiError('ClusterNotFoundException', 'Cluster not found.');
  return { name: services[0]!.clusterName, services };
}

function serviceIn(cluster: Cluster, nameOrArn: string): LocalEcsService | undefined {
  return cluster.services.find((service) => service.name === nameOrArn || service.arn === nameOrArn);
}

function serviceArn(ctx: Context, cluster: string, nameOrArn: string): string {
  return nameOrArn.startsWith('arn:')
    ? nameOrArn
    : `arn:aws:ecs:${ctx.region}:${ctx.account}:service/${cluster}/${nameOrArn}`;
}

function describe(service: LocalEcsService): unknown {
  return {
    serviceName: service.name,
    serviceArn: service.arn,
    clusterArn: service.clusterArn,
    status: 'ACTIVE',
    desiredCount: service.desiredCount,
    runningCount: service.runningCount,
    pendingCount: service.pendingCount,
    schedulingStrategy: 'REPLICA',
  };
}

/** A task-protection call, answered in the agent's shape (`protection`, or `error` with `Code`). */
async function agentCall(ctx: Context, taskId: string, method: string, body: Buffer): Promise<Answer> {
  const found = taskOf(ctx, taskId);
  if (!found) throw new EcsApiError('ResourceNotFoundException', `no task ${taskId} runs locally`, 404);
  const { service, taskArn } = found;
  const failed = (error: EcsApiError): Answer => ({
    status: error.status,
    body: { requestID: randomUUID(), error: { Arn: taskArn, Code: error.type, Message: error.message } },
  });
  if (method !== 'GET' && method !== 'PUT') {
    return failed(new EcsApiError('InvalidRequest', `${method} is not supported; use GET or PUT`, 405));
  }
  let update: { protectionEnabled: boolean; expiresInMinutes?: number } | undefined;
  if (method === 'PUT') {
    let input: Input;
    try {
      input = parseInput(body, 'InvalidRequest');
    } catch (error) {
      if (error instanceof EcsApiError) return failed(error);
      throw error;
    }
    if (typeof input.ProtectionEnabled !== 'boolean') {
      return failed(
        new EcsApiError('InvalidRequest', "Invalid request: does not contain 'ProtectionEnabled' field"),
      );
    }
    update = { protectionEnabled: input.ProtectionEnabled };
    if (input.ExpiresInMinutes !== undefined) update.expiresInMinutes = input.ExpiresInMinutes as number;
  }
  const action = update ? 'ecs:UpdateTaskProtection' : 'ecs:GetTaskProtection';
  const refusal = await authorizeTask(ctx, service, taskArn, action);
  if (refusal) return failed(refusal);
  try {
    const state = update ? service.updateProtection(taskArn, update) : service.protection(taskArn);
    return {
      status: 200,
      body: {
        requestID: randomUUID(),
        protection: {
          ExpirationDate: state.expirationDate
            ? state.expirationDate.toISOString().replace(/\.\d{3}Z$/, 'Z')
            : null,
          ProtectionEnabled: state.protectionEnabled,
          TaskArn: taskArn,
        },
      },
    };
  } catch (error) {
    if (error instanceof InvalidTaskProtectionError)
      return failed(new EcsApiError('InvalidParameterException', error.message));
    throw error;
  }
}

/** The task an agent URI belongs to: its id within one of the services' clusters. */
function taskOf(ctx: Context, taskId: string): { service: LocalEcsService; taskArn: string } | undefined {
  for (const service of ctx.services) {
    const taskArn = `arn:aws:ecs:${ctx.region}:${ctx.account}:task/${service.clusterName}/${taskId}`;
    if (service.task(taskArn)) return { service, taskArn };
  }
  return undefined;
}

/**
 * Why the task's role may not make `action` on the task, in AWS's words; undefined when it may.
 * The agent acts with the task role, so a service without one gets the agent's refusal.
 */
async function authorizeTask(
  ctx: Context,
  service: LocalEcsService,
  taskArn: string,
  action: string,
): Promise<EcsApiError | undefined> {
  const role = service.taskRoleArn === undefined ? undefined : ctx.identities.role(service.taskRoleArn);
  if (!role) {
    ctx.log?.(`ecs: refused ${action} on ${taskArn}: service ${service.name} has no known task role`);
    return new EcsApiError(
      'AccessDeniedException',
      'Invalid Request: no task IAM role credentials available for task',
      403,
    );
  }
  const check = { action, resource: taskArn, context: { 'ecs:cluster': service.clusterArn } };
  const decision = await ctx.evaluator.authorize(role, check);
  if (decision.allowed) return undefined;
  ctx.log?.(`iam: denied ${role.name} ${action} on ${taskArn}`);
  // The wording of the gateway's refusals (its helper is not exported).
  return new EcsApiError(
    'AccessDeniedException',
    `User: ${sessionArn(role)} is not authorized to perform: ${action} on resource: ${taskArn} ${decision.reason}`,
  );
}

function isAgentCall(req: IncomingMessage): boolean {
  return AGENT_PATH.test((req.url ?? '/').split('?')[0] ?? '/');
}

function parseInput(body: Buffer, type = 'SerializationException'): Input {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EcsApiError(type, 'the request body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EcsApiError(type, 'the request body is not a JSON object');
  }
  return value as Input;
}

/** What an error becomes on the wire: its ECS type, or a ServerException for anything unexpected. */
function faultAnswer(error: unknown): Answer {
  const fault =
    error instanceof EcsApiError
      ? error
      : new EcsApiError('ServerException', `local ECS: ${String(error)}`, 500);
  return { status: fault.status, body: fault };
}

function send(res: ServerResponse, answered: Answer, agent: boolean): void {
  const requestId = randomUUID();
  let body: unknown = answered.body;
  if (body instanceof EcsApiError) {
    body = agent
      ? { requestID: requestId, error: { Arn: '', Code: body.type, Message: body.message } }
      : { __type: body.type, message: body.message };
  }
  const bytes = Buffer.from(JSON.stringify(body));
  res
    .writeHead(answered.status, {
      'content-type': agent ? 'application/json' : 'application/x-amz-json-1.1',
      'content-length': String(bytes.length),
      'x-amzn-requestid': requestId,
    })
    .end(bytes);
}

/** The default launcher: a task without a process, running until it is stopped. */
function placeholderTask(): EcsTaskHandle {
  let exit!: () => void;
  const exited = new Promise<void>((resolve) => {
    exit = resolve;
  });
  return {
    exited,
    stop: async () => {
      exit();
      await exited;
    },
  };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
