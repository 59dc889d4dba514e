import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InferenceCloud,
  inferenceCloud,
  jobRecords,
  maxDiffFromReference,
  nextWorkerTask,
  queueDepth,
  receiveUntil,
  requestBody,
  sendRequests,
  settledDepth,
  waitForTerminal,
} from './support.ts';

// GPU inference as deployed, on the local cloud: requests on inference-requests, the bundled
// dispatcher Lambda, the ECS service raised from zero by the first requests, whose one task (a local
// worker process, ONNX Runtime on CPU) then serves every test of this file.
let fx: InferenceCloud;

beforeAll(async () => {
  fx = await inferenceCloud();
});

afterAll(async () => {
  await fx?.close();
});

describe('GPU inference on the local cloud (ONNX Runtime on CPU)', () => {
  it('turns N requests into N DONE records whose outputs equal the TypeScript reference', async () => {
    // Prepare
    const seeds = new Map(Array.from({ length: 40 }, (_, i) => [`flow-${i}`, i] as const));
    // Act
    await sendRequests(
      fx,
      [...seeds].map(([jobId, seed]) => requestBody(jobId, seed)),
    );
    const records = await waitForTerminal(fx, [...seeds.keys()]);
    const task = await nextWorkerTask(fx);
    // Assess
    expect(fx.dispatcher.stats).toMatchObject({ failed: 0, failedInvocations: 0 });
    expect([...seeds.keys()].map((id) => records.get(id)?.status)).toEqual(
      [...seeds.keys()].map(() => 'DONE'),
    );
    expect(maxDiffFromReference(fx.model, records, seeds)).toBeLessThan(1e-5);
    expect(records.get('flow-0')).toMatchObject({
      model: 'shelf-classifier',
      modelVersion: '1',
      output: { shape: [10] },
      workerId: task.workerId,
    });
    expect(await settledDepth(fx, fx.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('keeps one record and one result for a jobId sent again, before and after it finished', async () => {
    // Prepare
    const body = requestBody('dup-1', 101);
    await sendRequests(fx, [body, body]);
    const first = (await waitForTerminal(fx, ['dup-1'])).get('dup-1');
    // Act
    await sendRequests(fx, [body]);
    await fx.cloud.drain(30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const records = await jobRecords(fx);
    // Assess: each of the three requests was taken once, none redelivered.
    const stats = fx.dispatcher.stats;
    expect(stats).toMatchObject({ failed: 0, failedInvocations: 0 });
    expect(stats.deleted).toBe(stats.records);
    expect(records.get('dup-1')).toEqual(first);
    expect(first).toMatchObject({ status: 'DONE' });
    expect(await settledDepth(fx, fx.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('gives invalid requests a FAILED record with the reason and sends them to the DLQ', async () => {
    // Prepare
    const bodies = [
      JSON.stringify({
        jobId: 'bad-shape',
        model: 'shelf-classifier',
        input: { shape: [3, 32], data: [1, 2] },
      }),
      JSON.stringify({ jobId: 'bad-model', model: 'no-such-model', input: { shape: [1], data: [0] } }),
      'not json at all',
    ];
    // Act
    await sendRequests(fx, bodies);
    await fx.cloud.drain(30_000);
    const records = await jobRecords(fx);
    const letters = await receiveUntil(fx, fx.requestsDlqUrl, (m) => m.length >= bodies.length);
    // Assess
    expect(fx.dispatcher.stats).toMatchObject({ failed: 0, failedInvocations: 0 });
    expect(records.get('bad-shape')).toMatchObject({
      status: 'FAILED',
      error: { code: 'INVALID_INFERENCE_REQUEST' },
    });
    expect(records.get('bad-shape')?.error?.message).toContain(
      'input.data: has 2 values; shape [3, 32] needs 96',
    );
    expect(records.get('bad-model')).toMatchObject({ status: 'FAILED', error: { code: 'UNKNOWN_MODEL' } });
    expect(letters.map((m) => m.Body).sort()).toEqual([...bodies].sort());
    expect(letters.map((m) => m.MessageAttributes?.ErrorCode?.StringValue).sort()).toEqual([
      'INVALID_INFERENCE_REQUEST',
      'INVALID_INFERENCE_REQUEST',
      'UNKNOWN_MODEL',
    ]);
    expect(await queueDepth(fx, fx.requestsQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('fails, at the worker, a job whose input does not fit the model and deletes its message', async () => {
    // Prepare
    const body = JSON.stringify({
      jobId: 'wrong-size',
      model: 'shelf-classifier',
      input: { shape: [3, 16, 16], data: new Array(768).fill(0) },
    });
    // The template grants the workers no input bucket: S3 inputs are off.
    const s3 = JSON.stringify({
      jobId: 's3-local',
      model: 'shelf-classifier',
      input: { s3Uri: 's3://bucket/big.json' },
    });
    // Act
    await sendRequests(fx, [body, s3]);
    const records = await waitForTerminal(fx, ['wrong-size', 's3-local']);
    // Assess
    expect(records.get('wrong-size')).toMatchObject({
      status: 'FAILED',
      error: { code: 'INPUT_SHAPE_MISMATCH' },
    });
    expect(records.get('s3-local')).toMatchObject({
      status: 'FAILED',
      error: { code: 'S3_INPUT_UNSUPPORTED' },
    });
    expect(await settledDepth(fx, fx.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('ran one task, which reported its cold start phases when it became ready', async () => {
    // Act
    const task = await nextWorkerTask(fx);
    const ready = await task.worker.ready;
    // Assess
    expect(fx.workers.desiredCount).toBe(1);
    expect(fx.workers.tasks().map((t) => t.taskArn)).toEqual([task.taskArn]);
    expect(ready).toMatchObject({ device: 'cpu', backend: 'onnx' });
    expect(ready.modelLoadMs).toEqual(expect.any(Number));
    expect(ready.warmUpMs).toEqual(expect.any(Number));
    expect(task.worker.logs.some((e) => e.message === 'GPU telemetry off')).toBe(true);
    expect(fx.pollerErrors).toEqual([]);
  });
});
