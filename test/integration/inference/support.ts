import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import type { DispatchFunction } from '../../../functions/inference-dispatcher/wiring.ts';
import {
  type LocalWorker,
  localWorkerEnv,
  spawnLocalWorker,
} from '../../../shared/local/ecs/gpu-worker-process.ts';
import { createLocalDispatch } from '../../../shared/local/ecs/inference-dispatcher.ts';
import { createLambdaContext } from '../../../shared/local/lambda/lambda-context.ts';
import {
  type BuiltModel,
  ensureShelfClassifier,
  referenceForward,
  sampleImage,
  shelfClassifierWeights,
} from '../../../shared/local/model/build-model.ts';
import {
  createInferenceResources,
  type InferenceResources,
} from '../../../shared/local/resources/inference.ts';
import { isTerminal, type JobRecord } from '../../../shared/pipeline/inference/job-status.ts';
import { sqsRecord } from '../../support/factories/sqs.ts';

export interface InferenceFixture {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly resources: InferenceResources;
  readonly model: BuiltModel;
  readonly dispatch: DispatchFunction;
  /** Spawns a worker child process on these resources (CPU, telemetry on: it switches itself off). */
  startWorker(env?: Record<string, string>): LocalWorker;
  close(): Promise<void>;
}

/** Unique resources, the default model (built on demand) and a dispatcher wired to them. */
export async function inferenceFixture(
  options: { workVisibilityTimeoutSeconds?: number } = {},
): Promise<InferenceFixture> {
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const [resources, model] = await Promise.all([
    createInferenceResources({
      dynamodb,
      sqs,
      workVisibilityTimeoutSeconds: options.workVisibilityTimeoutSeconds ?? 120,
    }),
    ensureShelfClassifier(),
  ]);
  const dispatch = createLocalDispatch(resources);
  const workers: LocalWorker[] = [];
  return {
    dynamodb,
    sqs,
    resources,
    model,
    dispatch,
    startWorker(env = {}) {
      const worker = spawnLocalWorker({
        env: localWorkerEnv(resources, model.repository, {
          INTRA_OP_THREADS: '1',
          STOP_TIMEOUT_MS: '20000',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
          ...env,
        }),
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop(5_000)));
      await resources.delete();
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}

/** An inference request for the shelf classifier with a deterministic image. */
export function requestBody(jobId: string, seed: number): string {
  return JSON.stringify({
    jobId,
    model: 'shelf-classifier',
    input: { shape: [3, 32, 32], data: sampleImage(seed) },
  });
}

/** Runs the dispatcher on records carrying `bodies` (as the event source would) and returns its response. */
export async function dispatchBodies(
  fixture: InferenceFixture,
  bodies: readonly string[],
): Promise<SQSBatchResponse> {
  const records = bodies.map((body) => sqsRecord(body));
  return fixture.dispatch(
    { Records: records },
    createLambdaContext({ functionName: 'inference-dispatcher', region: 'us-east-1', timeoutMs: 30_000 }),
  );
}

export async function jobRecords(fixture: InferenceFixture): Promise<Map<string, JobRecord>> {
  const records = new Map<string, JobRecord>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await fixture.dynamodb.send(
      new ScanCommand({
        TableName: fixture.resources.jobsTable,
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

/** Polls the jobs table until `count` jobs (or every job in `count`) are terminal; returns every record. */
export async function waitForTerminal(
  fixture: InferenceFixture,
  count: number | readonly string[],
  timeoutMs = 90_000,
): Promise<Map<string, JobRecord>> {
  const deadline = Date.now() + timeoutMs;
  const wanted = typeof count === 'number' ? count : count.length;
  for (;;) {
    const records = await jobRecords(fixture);
    const terminal =
      typeof count === 'number'
        ? [...records.values()].filter((r) => isTerminal(r.status)).length
        : count.filter((id) => {
            const record = records.get(id);
            return record !== undefined && isTerminal(record.status);
          }).length;
    if (terminal >= wanted) return records;
    if (Date.now() > deadline)
      throw new Error(`${terminal} of ${wanted} jobs terminal after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function queueDepth(
  fixture: InferenceFixture,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await fixture.sqs.send(
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

/** Receives what is in a DLQ (bodies and attributes). */
export async function deadLetters(fixture: InferenceFixture, queueUrl: string) {
  const { Messages } = await fixture.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages ?? [];
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
