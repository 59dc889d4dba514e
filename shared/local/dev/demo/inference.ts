/**
 * The GPU inference demo on the embedded AWS stack (CPU here): sends a few inference requests
 * through the real dispatcher (run by the local event-source poller), runs one worker as a child
 * process with ONNX Runtime on CPU, and prints each job's final record next to the TypeScript
 * reference. `npm start` calls `runInferenceDemo`; `npx tsx shared/local/dev/demo/inference.ts` runs it alone.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isTerminal, type JobRecord } from '../../../pipeline/inference/job-status.ts';
import { inferenceSettings } from '../../../pipeline/inference/settings.ts';
import { SqsBatchSender } from '../../../sqs/index.ts';
import { endpointEnv, startEmbeddedAws } from '../../aws/embedded.ts';
import { localWorkerEnv, spawnLocalWorker, type WorkerLogEntry } from '../../ecs/gpu-worker-process.ts';
import { createLocalDispatch } from '../../ecs/inference-dispatcher.ts';
import { SqsEventSourcePoller } from '../../lambda/poller.ts';
import {
  ensureShelfClassifier,
  referenceForward,
  sampleImage,
  shelfClassifierWeights,
} from '../../model/build-model.ts';
import { createInferenceResources } from '../../resources/inference.ts';

export interface InferenceDemoOptions {
  readonly log: (line: string) => void;
  /** Valid jobs to send (a duplicate and two invalid requests are added). @default 24 */
  readonly jobs?: number;
  /** Largest batch the worker runs. @default 8 */
  readonly maxBatch?: number;
  /** Longest the demo waits for every job to finish. @default 120_000 */
  readonly timeoutMs?: number;
}

export interface InferenceDemoResult {
  /** Requests sent (valid, duplicate and invalid). */
  readonly sent: number;
  readonly done: number;
  readonly failed: number;
  /** Requests that ended in the inference-requests DLQ (the invalid ones). */
  readonly deadLettered: number;
  /** Every DONE output equals the TypeScript reference (max |Δ| < 1e-5). */
  readonly matchesReference: boolean;
  readonly maxAbsDiff: number;
  /** The worker's `worker ready` entry: cold start phases. */
  readonly coldStart: WorkerLogEntry;
  readonly elapsedMs: number;
}

/**
 * Runs the demo against the AWS endpoints in `process.env` (the embedded stack `npm start` has
 * started); creates and deletes its own uniquely named resources.
 */
export async function runInferenceDemo(options: InferenceDemoOptions): Promise<InferenceDemoResult> {
  const { log } = options;
  const jobCount = options.jobs ?? 24;
  const started = performance.now();
  const model = await ensureShelfClassifier();
  const weights = shelfClassifierWeights(model.spec);
  log(`model ${model.spec.name}@${model.spec.version}: ${model.path} (${model.built ? 'built' : 'cached'})`);

  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const resources = await createInferenceResources({ dynamodb, sqs, workVisibilityTimeoutSeconds: 30 });
  log(`jobs table ${resources.jobsTable}, gpu-work ${resources.workQueueUrl}`);

  const worker = spawnLocalWorker({
    env: localWorkerEnv(resources, model.repository, {
      MAX_BATCH: String(options.maxBatch ?? 8),
      MAX_DELAY_MS: '20',
      HEARTBEAT_INTERVAL_MS: '5000',
      STOP_TIMEOUT_MS: '10000',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    }),
    onLine: (line) => log(`  worker | ${line}`),
  });
  const dispatch = createLocalDispatch(resources);
  const poller = new SqsEventSourcePoller({
    sqs,
    queueUrl: resources.requestsQueueUrl,
    queueArn: resources.requestsQueueArn,
    handler: dispatch,
    batchSize: 100,
    maxBatchingWindowMs: 200,
    maxConcurrency: 2,
    functionName: 'inference-dispatcher-local',
    timeoutMs: inferenceSettings.dispatcher.timeoutSeconds * 1000,
  });

  try {
    const coldStart = await worker.ready;
    log(
      `worker ready on ${coldStart.device}: model load ${coldStart.modelLoadMs} ms, warm-up ${coldStart.warmUpMs} ms, ` +
        `process start → ready ${coldStart.processStartToReadyMs} ms`,
    );
    await poller.start();

    const sender = new SqsBatchSender({ queueUrl: resources.requestsQueueUrl, client: sqs });
    const images = new Map<string, number[]>();
    const bodies: string[] = [];
    for (let i = 0; i < jobCount; i++) {
      const jobId = `demo-${String(i).padStart(3, '0')}`;
      const image = sampleImage(i);
      images.set(jobId, image);
      bodies.push(
        JSON.stringify({ jobId, model: model.spec.name, input: { shape: [3, 32, 32], data: image } }),
      );
    }
    bodies.push(bodies[0]!); // a duplicate: one record, one result
    bodies.push(
      JSON.stringify({
        jobId: 'demo-bad-shape',
        model: model.spec.name,
        input: { shape: [2, 2], data: [1, 2, 3] },
      }),
    );
    bodies.push(
      JSON.stringify({
        jobId: 'demo-unknown-model',
        model: 'no-such-model',
        input: { shape: [1], data: [0] },
      }),
    );
    await Promise.all(bodies.map((body) => sender.send({ body })));
    await sender.close();
    log(`sent ${bodies.length} requests (${jobCount} jobs, 1 duplicate, 2 invalid)`);

    const expected = jobCount + 2;
    const records = await waitForTerminal(
      dynamodb,
      resources.jobsTable,
      expected,
      options.timeoutMs ?? 120_000,
    );
    let maxAbsDiff = 0;
    const rows: string[] = [];
    for (const record of records.sort((a, b) => a.jobId.localeCompare(b.jobId))) {
      const image = images.get(record.jobId);
      let diff = '';
      let refClass = '';
      if (record.status === 'DONE' && image && record.output) {
        const reference = referenceForward(weights, image);
        const d = Math.max(...reference.map((r, k) => Math.abs(r - record.output!.data[k]!)));
        maxAbsDiff = Math.max(maxAbsDiff, d);
        diff = d.toExponential(1);
        refClass = String(reference.indexOf(Math.max(...reference)));
      }
      const latency = record.finishedAt && record.queuedAt ? `${record.finishedAt - record.queuedAt} ms` : '';
      rows.push(
        [
          record.jobId.padEnd(19),
          record.status.padEnd(6),
          String(record.topClass ?? '').padStart(5),
          refClass.padStart(9),
          diff.padStart(8),
          latency.padStart(9),
          record.error ? ` ${record.error.code}` : '',
        ].join(' '),
      );
    }
    log(`${'jobId'.padEnd(19)} status  class  refClass  max|Δ|  latency`);
    for (const row of rows) log(row);

    const deadLettered = await queueDepth(sqs, resources.requestsDlqUrl);
    const done = records.filter((r) => r.status === 'DONE').length;
    const failed = records.filter((r) => r.status === 'FAILED').length;
    log(
      `${done} DONE, ${failed} FAILED, ${deadLettered} request(s) in the DLQ; max |Δ| vs reference ${maxAbsDiff.toExponential(1)}`,
    );
    return {
      sent: bodies.length,
      done,
      failed,
      deadLettered,
      matchesReference: done === jobCount && maxAbsDiff < 1e-5,
      maxAbsDiff,
      coldStart,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    await poller.stop();
    const exit = await worker.stop();
    log(`worker stopped (exit code ${exit.code})`);
    await resources.delete();
    dynamodb.destroy();
    sqs.destroy();
  }
}

async function waitForTerminal(
  dynamodb: DynamoDBClient,
  tableName: string,
  expected: number,
  timeoutMs: number,
): Promise<JobRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Items } = await dynamodb.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
    const records = (Items ?? []).map((item) => unmarshall(item) as JobRecord);
    if (records.filter((r) => isTerminal(r.status)).length >= expected) return records;
    if (Date.now() > deadline) {
      throw new Error(
        `only ${records.filter((r) => isTerminal(r.status)).length} of ${expected} jobs finished in ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  await using aws = await startEmbeddedAws({ log });
  Object.assign(process.env, endpointEnv(aws.endpoints));
  const result = await runInferenceDemo({ log });
  process.exitCode = result.matchesReference && result.deadLettered === 2 ? 0 : 1;
}
