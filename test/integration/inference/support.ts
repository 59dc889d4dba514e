import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { expect, inject } from 'vitest';
import { localClientConfig } from '../../../shared/local/aws/client-config.ts';
import { type CloudAssembly, readCloudAssembly } from '../../../shared/local/cloud/assembly.ts';
import type { EcsTaskHandle, LocalEcsService } from '../../../shared/local/cloud/ecs/index.ts';
import { type LocalCloud, startLocalCloud } from '../../../shared/local/cloud/local-cloud.ts';
import type { LocalWorker } from '../../../shared/local/ecs/gpu-worker-process.ts';
import type { SqsEventSourcePoller } from '../../../shared/local/lambda/poller.ts';
import {
  type BuiltModel,
  ensureShelfClassifier,
  referenceForward,
  sampleImage,
  shelfClassifierWeights,
} from '../../../shared/local/model/build-model.ts';
import { waitUntil } from '../../../shared/local/poll.ts';
import { isTerminal, type JobRecord } from '../../../shared/pipeline/inference/job-status.ts';

// GPU inference as deployed: the synthesized WritePath and GpuInference stacks on the local cloud.
// Requests go to the inference-requests queue, the bundled dispatcher Lambda records and packs them
// and raises the ECS service from zero, whose tasks run as local worker processes.

export interface InferenceCloud {
  readonly cloud: LocalCloud;
  /** Clients on the cloud's IAM gateways with the admin keys (what a test may do, not a role). */
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly jobsTable: string;
  readonly requestsQueueUrl: string;
  readonly requestsDlqUrl: string;
  readonly workQueueUrl: string;
  readonly workDlqUrl: string;
  readonly model: BuiltModel;
  /** The GPU worker service: its desired count is what the dispatcher set. */
  readonly workers: LocalEcsService;
  /** The dispatcher's event source on inference-requests. */
  readonly dispatcher: SqsEventSourcePoller;
  /** Errors the event sources reported (failed receives, handler errors). */
  readonly pollerErrors: readonly unknown[];
  /** Stops the cloud, deletes its resources and asserts the template IAM refused nothing. */
  close(): Promise<void>;
}

export interface InferenceCloudOptions {
  /** A changed copy of the synthesized app to deploy instead (a setting the test cannot wait for). */
  readonly assembly?: (assembly: CloudAssembly) => CloudAssembly;
  /** Worker variables over the template's task definition (see `withWorkerEnvironment`). @default none */
  readonly workerEnvironment?: Readonly<Record<string, string>>;
  /** Model repository of the GPU tasks. @default the demo model */
  readonly modelRepository?: string;
}

/** A copy of the WritePath and GpuInference stacks of its own (names prefixed) on the local cloud. */
export async function inferenceCloud(options: InferenceCloudOptions = {}): Promise<InferenceCloud> {
  const synthesized = readCloudAssembly(inject('cloudAssemblyDir'));
  const deployed = withWorkerEnvironment(
    options.assembly ? options.assembly(synthesized) : synthesized,
    options.workerEnvironment ?? {},
  );
  const model = await ensureShelfClassifier();
  const pollerErrors: unknown[] = [];
  const cloud = await startLocalCloud({
    assembly: deployed,
    endpoints: inject('localAws'),
    stacks: ['WritePath', 'GpuInference'],
    namePrefix: `i${randomUUID().slice(0, 6)}-`,
    modelRepository: options.modelRepository ?? model.repository,
    onError: (error) => pollerErrors.push(error),
  });
  const { region } = cloud.endpoints;
  const dynamodb = new DynamoDBClient(localClientConfig(cloud.endpoints.dynamodb, region));
  const sqs = new SQSClient(localClientConfig(cloud.endpoints.sqs, region));
  const requestsQueueUrl = cloud.output('GpuInference', 'InferenceRequestsQueueUrl');
  const requestsQueue = cloud.deployment.queues.find((q) => q.url === requestsQueueUrl);
  const mapping = cloud.deployment.eventSourceMappings.find((m) => m.queueArn === requestsQueue?.arn);
  const dispatcher = mapping && cloud.pollers.get(mapping.logicalId);
  const [workers] = cloud.ecs.services;
  if (!dispatcher || !workers || cloud.ecs.services.length !== 1) {
    await cloud.stop();
    await cloud.destroy();
    throw new Error('the GpuInference stack should have one dispatcher event source and one ECS service');
  }
  return {
    cloud,
    dynamodb,
    sqs,
    jobsTable: cloud.output('GpuInference', 'JobsTableName'),
    requestsQueueUrl,
    requestsDlqUrl: cloud.output('GpuInference', 'InferenceRequestsDeadLetterQueueUrl'),
    workQueueUrl: cloud.output('GpuInference', 'GpuWorkQueueUrl'),
    workDlqUrl: cloud.output('GpuInference', 'GpuWorkDeadLetterQueueUrl'),
    model,
    workers,
    dispatcher,
    pollerErrors,
    async close() {
      const denials = cloud.iam.denials();
      try {
        await cloud.stop();
        await cloud.destroy();
      } finally {
        dynamodb.destroy();
        sqs.destroy();
      }
      expect(denials).toEqual([]);
    },
  };
}

/** The one resource of `type` in the GpuInference stack whose logical id starts with `prefix`. */
function gpuResource(assembly: CloudAssembly, type: string, prefix: string) {
  const stack = assembly.stacks.find((s) => s.name === 'GpuInference');
  const found = Object.entries(stack?.template.Resources ?? {}).filter(
    ([logicalId, resource]) => resource.Type === type && logicalId.startsWith(prefix),
  );
  if (found.length !== 1)
    throw new Error(`expected one ${type} ${prefix}* in GpuInference, found ${found.length}`);
  return found[0]![1];
}

/**
 * The copy of `assembly` whose gpu-work queue has this visibility timeout (the template's is 300 s):
 * for tests that wait for the messages of a dead task to come back.
 */
export function withWorkVisibilityTimeout(assembly: CloudAssembly, seconds: number): CloudAssembly {
  const copy = structuredClone(assembly) as CloudAssembly;
  gpuResource(copy, 'AWS::SQS::Queue', 'GpuWorkQueue').Properties!.VisibilityTimeout = seconds;
  return copy;
}

/** The copy of `assembly` whose GPU task definition sets these worker variables (over the template's). */
export function withWorkerEnvironment(
  assembly: CloudAssembly,
  variables: Readonly<Record<string, string>>,
): CloudAssembly {
  const copy = structuredClone(assembly) as CloudAssembly;
  const taskDefinition = gpuResource(copy, 'AWS::ECS::TaskDefinition', 'WorkersTaskDefinition');
  const [container] = taskDefinition.Properties!.ContainerDefinitions as {
    Environment: { Name: string; Value: unknown }[];
  }[];
  const environment = container!.Environment.filter(({ Name }) => !(Name in variables));
  container!.Environment = [
    ...environment,
    ...Object.entries(variables).map(([Name, Value]) => ({ Name, Value })),
  ];
  return copy;
}

/** An inference request for the shelf classifier with a deterministic image. */
export function requestBody(jobId: string, seed: number): string {
  return JSON.stringify({
    jobId,
    model: 'shelf-classifier',
    input: { shape: [3, 32, 32], data: sampleImage(seed) },
  });
}

/** Sends `bodies` to inference-requests as a client does (batches of 10); returns their message ids. */
export async function sendRequests(fx: InferenceCloud, bodies: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; start += 10) {
    const entries = bodies.slice(start, start + 10).map((body, j) => ({ Id: String(j), MessageBody: body }));
    const out = await fx.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: fx.requestsQueueUrl, Entries: entries }),
    );
    expect(out.Failed ?? []).toEqual([]);
    const byId = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId!]));
    ids.push(...entries.map((e) => byId.get(e.Id)!));
  }
  return ids;
}

export async function jobRecords(fx: InferenceCloud): Promise<Map<string, JobRecord>> {
  const records = new Map<string, JobRecord>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await fx.dynamodb.send(
      new ScanCommand({
        TableName: fx.jobsTable,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start as never } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const record = unmarshall(item) as JobRecord;
      records.set(record.jobId, record);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return records;
}

/** How many job records hold `status`. */
export async function countWithStatus(fx: InferenceCloud, status: JobRecord['status']): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await fx.dynamodb.send(
      new ScanCommand({
        TableName: fx.jobsTable,
        ConsistentRead: true,
        Select: 'COUNT',
        FilterExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': { S: status } },
        ...(start ? { ExclusiveStartKey: start as never } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/** Polls the jobs table until `count` jobs (or every job in `count`) are terminal; returns every record. */
export async function waitForTerminal(
  fx: InferenceCloud,
  count: number | readonly string[],
  timeoutMs = 90_000,
): Promise<Map<string, JobRecord>> {
  const wanted = typeof count === 'number' ? count : count.length;
  let terminal = 0;
  return waitUntil(
    async () => {
      const records = await jobRecords(fx);
      terminal =
        typeof count === 'number'
          ? [...records.values()].filter((r) => isTerminal(r.status)).length
          : count.filter((id) => {
              const record = records.get(id);
              return record !== undefined && isTerminal(record.status);
            }).length;
      return terminal >= wanted ? records : undefined;
    },
    { what: () => `${wanted} terminal jobs (${terminal} seen)`, timeoutMs },
  );
}

export async function queueDepth(
  fx: InferenceCloud,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await fx.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/**
 * The depth of `queueUrl` once it is empty, or its last depth after `timeoutMs`: a worker deletes a
 * message only after its job records are written, so "all jobs terminal" comes a moment before.
 */
export async function settledDepth(
  fx: InferenceCloud,
  queueUrl: string,
  timeoutMs = 10_000,
): Promise<{ visible: number; inFlight: number }> {
  let depth = await queueDepth(fx, queueUrl);
  const deadline = Date.now() + timeoutMs;
  while ((depth.visible > 0 || depth.inFlight > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    depth = await queueDepth(fx, queueUrl);
  }
  return depth;
}

/** Receives (and keeps invisible) what is in a queue until `enough` holds or `timeoutMs` passed. */
export async function receiveUntil(
  fx: InferenceCloud,
  queueUrl: string,
  enough: (messages: readonly Message[]) => boolean,
  timeoutMs = 10_000,
): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!enough(messages) && Date.now() < deadline) {
    const { Messages } = await fx.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    messages.push(...(Messages ?? []));
    if (!Messages?.length) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return messages;
}

/** A task of the GPU service and the worker process the local cloud runs it as. */
export interface WorkerTask {
  readonly taskArn: string;
  readonly worker: LocalWorker;
  /** The `workerId` it writes into job records (the worker's default: `<hostname>-<pid>`). */
  readonly workerId: string;
}

function isLocalWorker(handle: EcsTaskHandle | undefined): handle is EcsTaskHandle & LocalWorker {
  return handle !== undefined && 'signal' in handle && 'logs' in handle && 'pid' in handle;
}

/** Waits until the GPU service runs a task other than `except` and returns it with its worker process. */
export async function nextWorkerTask(
  fx: InferenceCloud,
  except: readonly string[] = [],
  timeoutMs = 60_000,
): Promise<WorkerTask> {
  return waitUntil(
    () => {
      const task = fx.workers.tasks().find((t) => !except.includes(t.taskArn));
      const handle = task && fx.workers.taskHandle(task.taskArn);
      if (!task || !isLocalWorker(handle)) return undefined;
      return { taskArn: task.taskArn, worker: handle, workerId: `${hostname()}-${handle.pid}` };
    },
    { what: 'a GPU worker task', timeoutMs, intervalMs: 50 },
  );
}

/** The largest |output − reference| over `jobs` (seed by job), with the model's weights. */
export function maxDiffFromReference(
  model: BuiltModel,
  records: Map<string, JobRecord>,
  seeds: ReadonlyMap<string, number>,
): number {
  const weights = shelfClassifierWeights(model.spec);
  let max = 0;
  for (const [jobId, seed] of seeds) {
    const output = records.get(jobId)?.output;
    if (!output) return Number.POSITIVE_INFINITY;
    const reference = referenceForward(weights, sampleImage(seed));
    for (let k = 0; k < reference.length; k++) max = Math.max(max, Math.abs(reference[k]! - output.data[k]!));
  }
  return max;
}
