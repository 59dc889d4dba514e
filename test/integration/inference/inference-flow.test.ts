import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalWorker } from '../../../shared/local/ecs/gpu-worker-process.ts';
import {
  deadLetters,
  dispatchBodies,
  type InferenceFixture,
  inferenceFixture,
  jobRecords,
  maxDiffFromReference,
  queueDepth,
  requestBody,
  waitForTerminal,
} from './support.ts';

// One worker process serves every test of this file, as one ECS task serves a queue.
let fixture: InferenceFixture;
let worker: LocalWorker;

beforeAll(async () => {
  fixture = await inferenceFixture();
  worker = fixture.startWorker({ MAX_BATCH: '16', MAX_DELAY_MS: '20' });
  await worker.ready;
});

afterAll(async () => {
  await fixture?.close();
});

describe('GPU inference on the embedded stack (ONNX Runtime on CPU)', () => {
  it('turns N requests into N DONE records whose outputs equal the TypeScript reference', async () => {
    // Prepare
    const seeds = new Map(Array.from({ length: 40 }, (_, i) => [`flow-${i}`, i] as const));
    // Act
    const response = await dispatchBodies(
      fixture,
      [...seeds].map(([jobId, seed]) => requestBody(jobId, seed)),
    );
    const records = await waitForTerminal(fixture, [...seeds.keys()]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect([...seeds.keys()].map((id) => records.get(id)?.status)).toEqual(
      [...seeds.keys()].map(() => 'DONE'),
    );
    expect(maxDiffFromReference(fixture.model, records, seeds)).toBeLessThan(1e-5);
    expect(records.get('flow-0')).toMatchObject({
      model: 'shelf-classifier',
      modelVersion: '1',
      output: { shape: [10] },
    });
    expect(await queueDepth(fixture, fixture.resources.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('keeps one record and one result for a jobId sent again, before and after it finished', async () => {
    // Prepare
    const body = requestBody('dup-1', 101);
    await dispatchBodies(fixture, [body, body]);
    const first = (await waitForTerminal(fixture, ['dup-1'])).get('dup-1');
    // Act
    const again = await dispatchBodies(fixture, [body]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const records = await jobRecords(fixture);
    // Assess
    expect(again.batchItemFailures).toEqual([]);
    expect(records.get('dup-1')).toEqual(first);
    expect(first).toMatchObject({ status: 'DONE' });
    expect(await queueDepth(fixture, fixture.resources.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
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
    const response = await dispatchBodies(fixture, bodies);
    const records = await jobRecords(fixture);
    const letters = await deadLetters(fixture, fixture.resources.requestsDlqUrl);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
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
  });

  it('fails, at the worker, a job whose input does not fit the model and deletes its message', async () => {
    // Prepare
    const body = JSON.stringify({
      jobId: 'wrong-size',
      model: 'shelf-classifier',
      input: { shape: [3, 16, 16], data: new Array(768).fill(0) },
    });
    const s3 = JSON.stringify({
      jobId: 's3-local',
      model: 'shelf-classifier',
      input: { s3Uri: 's3://bucket/big.json' },
    });
    // Act
    await dispatchBodies(fixture, [body, s3]);
    const records = await waitForTerminal(fixture, ['wrong-size', 's3-local']);
    // Assess
    expect(records.get('wrong-size')).toMatchObject({
      status: 'FAILED',
      error: { code: 'INPUT_SHAPE_MISMATCH' },
    });
    expect(records.get('s3-local')).toMatchObject({
      status: 'FAILED',
      error: { code: 'S3_INPUT_UNSUPPORTED' },
    });
    expect(await queueDepth(fixture, fixture.resources.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('reported its cold start phases when it became ready', async () => {
    // Act
    const ready = await worker.ready;
    // Assess
    expect(ready).toMatchObject({ device: 'cpu', backend: 'onnx' });
    expect(ready.modelLoadMs).toEqual(expect.any(Number));
    expect(ready.warmUpMs).toEqual(expect.any(Number));
    expect(worker.logs.some((e) => e.message === 'GPU telemetry off')).toBe(true);
  });
});
