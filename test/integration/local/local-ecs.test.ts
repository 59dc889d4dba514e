import { randomUUID } from 'node:crypto';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { EcsTaskProtection } from '../../../functions/gpu-worker/task-protection.ts';
import { localCredentials } from '../../../shared/local/aws/client-config.ts';
import {
  type EcsScaleChange,
  type EcsServiceSpec,
  type EcsTaskHandle,
  type EcsTaskLaunch,
  type LocalEcs,
  startLocalEcs,
} from '../../../shared/local/cloud/ecs/index.ts';
import {
  IamEvaluator,
  LocalIdentities,
  type LocalRole,
  type PolicyStatement,
} from '../../../shared/local/cloud/iam/index.ts';

const { region } = inject('localAws');
const account = '123456789012';
const suffix = randomUUID().slice(0, 8);
const cluster = `workers-${suffix}`;
const ecsArn = (path: string) => `arn:aws:ecs:${region}:${account}:${path}`;

function role(name: string, ...statements: PolicyStatement[]): LocalRole {
  return {
    arn: `arn:aws:iam::${account}:role/${name}-${suffix}`,
    name: `${name}-${suffix}`,
    stack: 'Test',
    logicalId: `${name}Role`,
    policies: [{ name: `${name}Policy`, document: { Version: '2012-10-17', Statement: statements } }],
  };
}

const gpuArn = ecsArn(`service/${cluster}/gpu`);
const roles = {
  scaler: role('scaler', {
    Effect: 'Allow',
    Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
    Resource: gpuArn,
  }),
  watcher: role('watcher', { Effect: 'Allow', Action: 'ecs:DescribeServices', Resource: gpuArn }),
  worker: role('worker', {
    Effect: 'Allow',
    Action: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'],
    Resource: ecsArn(`task/${cluster}/*`),
  }),
  unprotected: role('unprotected', { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }),
};
const identities = new LocalIdentities(Object.values(roles));
const evaluator = new IamEvaluator(Object.values(roles));

const service = (name: string, taskRole: LocalRole): EcsServiceSpec => ({
  arn: ecsArn(`service/${cluster}/${name}`),
  name,
  clusterName: cluster,
  clusterArn: ecsArn(`cluster/${cluster}`),
  environment: { SERVICE: name },
  taskRoleArn: taskRole.arn,
});
const services = { gpu: service('gpu', roles.worker), plain: service('plain', roles.unprotected) };

/** Fake tasks: no process, each exits when stopped. */
function fakeLauncher() {
  const launched: { task: EcsTaskLaunch; service: string; exited: boolean }[] = [];
  const launch = (task: EcsTaskLaunch, spec: EcsServiceSpec): EcsTaskHandle => {
    const entry = { task, service: spec.name, exited: false };
    launched.push(entry);
    let exit!: () => void;
    const exited = new Promise<void>((resolve) => {
      exit = resolve;
    });
    return {
      exited,
      stop: async () => {
        entry.exited = true;
        exit();
        await exited;
      },
    };
  };
  return {
    launched,
    launch,
    alive: (name: string) => launched.filter((e) => e.service === name && !e.exited),
  };
}

let ecs: LocalEcs;
let tasks: ReturnType<typeof fakeLauncher>;
let scaled: EcsScaleChange[];

/** An ECS client acting as `as` (a role, or the admin). maxAttempts 1: a refusal reaches the test as it is. */
function client(as: LocalRole | 'admin'): ECSClient {
  const credentials = as === 'admin' ? localCredentials : identities.credentialsFor(as);
  return new ECSClient({ endpoint: ecs.url, region, credentials, maxAttempts: 1 });
}

/** Scales `name` to `count` with admin credentials and waits for its fake tasks. */
async function scaledTo(name: 'gpu' | 'plain', count: number): Promise<EcsTaskLaunch[]> {
  await client('admin').send(new UpdateServiceCommand({ cluster, service: name, desiredCount: count }));
  await vi.waitFor(() => expect(tasks.alive(name)).toHaveLength(count));
  return tasks.alive(name).map((e) => e.task);
}

/** What the agent's task-protection endpoint answers. */
interface AgentAnswer {
  readonly status: number;
  readonly body: { readonly protection?: unknown; readonly error?: unknown };
}

async function protectionState(agentUri: string, init?: RequestInit): Promise<AgentAnswer> {
  const response = await fetch(`${agentUri}/task-protection/v1/state`, init);
  return { status: response.status, body: (await response.json()) as AgentAnswer['body'] };
}

beforeEach(async () => {
  tasks = fakeLauncher();
  scaled = [];
  ecs = await startLocalEcs({
    services: Object.values(services),
    evaluator,
    identities,
    region,
    account,
    launch: tasks.launch,
    onScale: (change) => scaled.push(change),
  });
});

afterEach(async () => {
  await ecs.stop();
});

describe('local ECS API', () => {
  it('describes a service to a role granted ecs:DescribeServices on it', async () => {
    // Prepare
    const ecsClient = client(roles.scaler);
    // Act
    const described = await ecsClient.send(new DescribeServicesCommand({ cluster, services: ['gpu'] }));
    // Assess
    expect(described.services).toEqual([
      expect.objectContaining({
        serviceName: 'gpu',
        serviceArn: gpuArn,
        clusterArn: ecsArn(`cluster/${cluster}`),
        status: 'ACTIVE',
        desiredCount: 0,
        runningCount: 0,
        pendingCount: 0,
      }),
    ]);
    expect(described.failures).toEqual([]);
  });

  it('reports services the cluster does not have as MISSING failures', async () => {
    // Prepare
    const gone = ecsArn(`service/${cluster}/gone`);
    // Act
    const described = await client('admin').send(
      new DescribeServicesCommand({
        cluster: ecsArn(`cluster/${cluster}`),
        services: ['gpu', gone, 'other'],
      }),
    );
    // Assess
    expect(described.services?.map((s) => s.serviceName)).toEqual(['gpu']);
    expect(described.failures).toEqual([
      { arn: gone, reason: 'MISSING' },
      { arn: ecsArn(`service/${cluster}/other`), reason: 'MISSING' },
    ]);
  });

  it('runs as many tasks as the desired count an allowed UpdateService sets', async () => {
    // Prepare
    const ecsClient = client(roles.scaler);
    // Act
    const updated = await ecsClient.send(
      new UpdateServiceCommand({ cluster, service: 'gpu', desiredCount: 2 }),
    );
    await vi.waitFor(() => expect(tasks.alive('gpu')).toHaveLength(2));
    await ecsClient.send(new UpdateServiceCommand({ cluster, service: gpuArn, desiredCount: 1 }));
    await vi.waitFor(() => expect(ecs.service(gpuArn)?.runningCount).toBe(1));
    const described = await ecsClient.send(new DescribeServicesCommand({ cluster, services: ['gpu'] }));
    // Assess
    expect(updated.service).toMatchObject({ serviceArn: gpuArn, desiredCount: 2 });
    expect(described.services?.[0]).toMatchObject({ desiredCount: 1, runningCount: 1 });
    expect(tasks.launched.map((e) => e.task.env)).toEqual([{ SERVICE: 'gpu' }, { SERVICE: 'gpu' }]);
    expect(scaled).toEqual([
      { serviceArn: gpuArn, serviceName: 'gpu', previousDesiredCount: 0, desiredCount: 2 },
      { serviceArn: gpuArn, serviceName: 'gpu', previousDesiredCount: 2, desiredCount: 1 },
    ]);
  });

  it('refuses UpdateService to a role without the grant with an AccessDeniedException naming action and service', async () => {
    // Prepare
    const ecsClient = client(roles.watcher);
    // Act
    const updating = ecsClient.send(new UpdateServiceCommand({ cluster, service: 'gpu', desiredCount: 1 }));
    // Assess
    await expect(updating).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining(`ecs:UpdateService on resource: ${gpuArn}`),
    });
    expect(ecs.service(gpuArn)?.desiredCount).toBe(0);
    expect(tasks.launched).toEqual([]);
  });

  it('answers ServiceNotFoundException for an unknown service and InvalidParameterException past the local maximum', async () => {
    // Prepare
    const admin = client('admin');
    // Act
    const unknown = admin.send(new UpdateServiceCommand({ cluster, service: 'gone', desiredCount: 1 }));
    const tooMany = admin.send(new UpdateServiceCommand({ cluster, service: 'gpu', desiredCount: 11 }));
    // Assess
    await expect(unknown).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
    await expect(tooMany).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('from 0 to 10'),
    });
  });
});

describe('local ECS agent: task protection', () => {
  it('sets and reads a task’s protection through its agent URI, as the task role', async () => {
    // Prepare
    const [task] = await scaledTo('gpu', 1);
    // Act
    const put = await protectionState(task!.agentUri, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ProtectionEnabled: true, ExpiresInMinutes: 15 }),
    });
    const get = await protectionState(task!.agentUri);
    // Assess
    expect(put.status).toBe(200);
    expect(put.body.protection).toEqual({
      ExpirationDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      ProtectionEnabled: true,
      TaskArn: task!.taskArn,
    });
    expect(get).toEqual({ status: 200, body: expect.objectContaining({ protection: put.body.protection }) });
    expect(ecs.service(gpuArn)?.protection(task!.taskArn).protectionEnabled).toBe(true);
  });

  it('refuses task protection with the agent’s AccessDeniedException when the task role lacks the grant', async () => {
    // Prepare
    const [task] = await scaledTo('plain', 1);
    // Act
    const put = await protectionState(task!.agentUri, {
      method: 'PUT',
      body: JSON.stringify({ ProtectionEnabled: true }),
    });
    // Assess
    expect(put.status).toBe(400);
    expect(put.body.error).toEqual({
      Arn: task!.taskArn,
      Code: 'AccessDeniedException',
      Message: expect.stringContaining(`ecs:UpdateTaskProtection on resource: ${task!.taskArn}`),
    });
    expect(ecs.service(services.plain.arn)?.protection(task!.taskArn).protectionEnabled).toBe(false);
  });

  it('lets the worker’s EcsTaskProtection protect its task, so scale-in keeps it until it is idle', async () => {
    // Prepare
    const [task] = await scaledTo('gpu', 1);
    const errors: unknown[] = [];
    const protection = new EcsTaskProtection({ agentUri: task!.agentUri, onError: (e) => errors.push(e) });
    // Act
    await protection.setBusy(true);
    await client('admin').send(new UpdateServiceCommand({ cluster, service: 'gpu', desiredCount: 0 }));
    const whileBusy = ecs.service(gpuArn)?.task(task!.taskArn)?.desiredStatus;
    await protection.setBusy(false);
    // Assess
    expect(errors).toEqual([]);
    expect(whileBusy).toBe('RUNNING');
    await vi.waitFor(() => expect(tasks.alive('gpu')).toEqual([]));
  });
});
