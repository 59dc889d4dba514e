/**
 * The GPU inference demo on the local cloud (CPU here): requests to the InferenceRequestsQueueUrl
 * output; the deployed dispatcher scales the ECS worker service from zero, its tasks run as local
 * worker processes with ONNX Runtime on CPU, and every job's final record in the JobsTableName output
 * is printed next to the TypeScript reference. `npm start` calls `runInferenceDemo`;
 * `npm run demo:inference` deploys the GpuInference stack (and the WritePath stack whose outputs it
 * reads) and runs it alone.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { isTerminal, type JobRecord } from '../../../pipeline/inference/job-status.ts';
import { localClientConfig } from '../../aws/client-config.ts';
import {
  defaultShelfClassifier,
  referenceForward,
  sampleImage,
  shelfClassifierWeights,
} from '../../model/build-model.ts';
import { waitUntil } from '../../poll.ts';
import { demoArgs } from '../lib/args.ts';
import { type DemoCloud, startDemoCloud } from '../lib/demo-cloud.ts';
import { queueDepth, sendBodies } from '../lib/queues.ts';
import { scanAll } from '../lib/tables.ts';

export interface InferenceDemoOptions {
  /** Valid jobs to send (a duplicate and two invalid requests are added). @default 24 */
  readonly jobs?: number;
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
  /** Every valid job is DONE and its output equals the TypeScript reference (max |Δ| < 1e-5). */
  readonly matchesReference: boolean;
  readonly maxAbsDiff: number;
}

/** Largest difference from the reference that still counts as the same result (float32 vs float64). */
const TOLERANCE = 1e-5;

export async function runInferenceDemo(
  demo: DemoCloud,
  log: (line: string) => void,
  options: InferenceDemoOptions = {},
): Promise<InferenceDemoResult> {
  const { cloud } = demo;
  const { region } = cloud.endpoints;
  const out = (name: string) => cloud.output('GpuInference', name);
  const jobsTable = out('JobsTableName');
  const requestsUrl = out('InferenceRequestsQueueUrl');
  const jobCount = options.jobs ?? 24;
  const spec = defaultShelfClassifier;
  const weights = shelfClassifierWeights(spec);
  const sqs = new SQSClient(localClientConfig(cloud.endpoints.sqs, region));
  const dynamodb = new DynamoDBClient(localClientConfig(cloud.endpoints.dynamodb, region));
  const services = () => cloud.ecs.services.map((s) => `${s.name} desired ${s.desiredCount}`).join(', ');
  log(`jobs table ${jobsTable}, inference-requests ${requestsUrl}`);
  log(`before: ${services() || 'no ECS service'}`);

  try {
    const images = new Map<string, number[]>();
    const bodies: unknown[] = [];
    for (let i = 0; i < jobCount; i++) {
      const jobId = `demo-${String(i).padStart(3, '0')}`;
      const image = sampleImage(i, spec);
      images.set(jobId, image);
      bodies.push({ jobId, model: spec.name, input: { shape: [3, 32, 32], data: image } });
    }
    bodies.push(bodies[0]); // a duplicate: one record, one result
    bodies.push({ jobId: 'demo-bad-shape', model: spec.name, input: { shape: [2, 2], data: [1, 2, 3] } });
    bodies.push({ jobId: 'demo-unknown-model', model: 'no-such-model', input: { shape: [1], data: [0] } });
    const started = performance.now();
    await sendBodies(sqs, requestsUrl, bodies);
    log(`sent ${bodies.length} requests (${jobCount} jobs, 1 duplicate, 2 invalid)`);

    const expected = jobCount + 2;
    const records = await waitUntil(
      async () => {
        const found = (await scanAll(dynamodb, jobsTable)) as unknown as JobRecord[];
        return found.filter((r) => isTerminal(r.status)).length >= expected ? found : undefined;
      },
      {
        what: `${expected} finished jobs in ${jobsTable}`,
        timeoutMs: options.timeoutMs ?? 120_000,
        intervalMs: 250,
      },
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    log(`after: ${services()} (scaled from zero by the dispatcher); all jobs finished in ${seconds} s`);

    let maxAbsDiff = 0;
    log(`${'jobId'.padEnd(19)} status  class  refClass  max|Δ|  latency`);
    for (const record of records.sort((a, b) => a.jobId.localeCompare(b.jobId))) {
      const image = images.get(record.jobId);
      let diff = '';
      let refClass = '';
      if (record.status === 'DONE' && image && record.output) {
        const reference = referenceForward(weights, image);
        const output = record.output.data;
        const d = Math.max(...reference.map((r, k) => Math.abs(r - (output[k] ?? Number.NaN))));
        maxAbsDiff = Math.max(maxAbsDiff, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d);
        diff = d.toExponential(1);
        refClass = String(reference.indexOf(Math.max(...reference)));
      }
      const latency = record.finishedAt && record.queuedAt ? `${record.finishedAt - record.queuedAt} ms` : '';
      log(
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

    const deadLettered = await queueDepth(sqs, out('InferenceRequestsDeadLetterQueueUrl'));
    const done = records.filter((r) => r.status === 'DONE').length;
    const failed = records.filter((r) => r.status === 'FAILED').length;
    const matchesReference = done === jobCount && maxAbsDiff < TOLERANCE;
    log(
      `${done} DONE, ${failed} FAILED, ${deadLettered} request(s) in the DLQ; max |Δ| vs reference ${maxAbsDiff.toExponential(1)}`,
    );
    log(
      matchesReference && deadLettered === 2
        ? `check: every job DONE and equal to the reference; the 2 invalid requests dead-lettered`
        : `check FAILED: ${done}/${jobCount} DONE, max |Δ| ${maxAbsDiff.toExponential(1)}, ${deadLettered} dead-lettered (expected 2)`,
    );
    return { sent: bodies.length, done, failed, deadLettered, matchesReference, maxAbsDiff };
  } finally {
    sqs.destroy();
    dynamodb.destroy();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = demoArgs(process.argv.slice(2));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const demo = await startDemoCloud({ ...args, stacks: ['GpuInference'], log });
  let passed = false;
  try {
    const result = await runInferenceDemo(demo, log);
    const iam = await demo.iamSummary();
    log(iam.line);
    passed = result.matchesReference && result.deadLettered === 2 && iam.denials === 0;
  } finally {
    await demo.stop();
  }
  // Exit now: DynamoDB Local's stop leaves its 5 s kill-grace timer running after the JVM is gone.
  process.exit(passed ? 0 : 1);
}
