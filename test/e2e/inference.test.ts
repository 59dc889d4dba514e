import { beforeAll, describe, expect, it } from 'vitest';
import { done, eventually, notYet } from './support/poll.ts';
import { DeadLetterReader, sendBodies, waitForQueueIdle } from './support/queues.ts';
import { getItem } from './support/tables.ts';
import { e2eTarget, type GpuInferenceTarget, gpuInferenceOf } from './support/target.ts';
import { uniquePrefix } from './support/unique.ts';

// GPU inference as a client sees it: requests on the inference-requests queue (README "Request
// contract"), job records in the jobs table. An idle deployment runs no GPU task (the local cloud
// starts every ECS service at desired count 0), so the first requests go through the dispatcher's
// scale-from-zero path before a worker computes them.

let gpu: GpuInferenceTarget;

/**
 * How long jobs may take to finish. A local worker is ready in about a second; on AWS a GPU
 * instance starts from zero in minutes, so set E2E_INFERENCE_DEADLINE_MS there (e.g. 1200000).
 */
const deadlineMs = Number(process.env.E2E_INFERENCE_DEADLINE_MS || 150_000);
/** The test's own timeout: the deadline plus room for sending and the other waits. */
const testTimeoutMs = deadlineMs + 30_000;

beforeAll(async () => {
  gpu = gpuInferenceOf(await e2eTarget());
});

/** A deterministic 3×32×32 "shelf image" for the demo model `shelf-classifier`. */
function image(seed: number): { shape: number[]; data: number[] } {
  return {
    shape: [3, 32, 32],
    data: Array.from({ length: 3 * 32 * 32 }, (_, i) => ((i * 31 + seed * 17) % 97) / 97),
  };
}

/** The job records of `jobIds` once every one holds `holds`. */
function waitForJobs(
  jobIds: readonly string[],
  holds: (job: Record<string, unknown>) => boolean,
  what: string,
) {
  return eventually(
    async () => {
      const jobs = await Promise.all(jobIds.map((jobId) => getItem(gpu.jobsTableName, { jobId })));
      const pending = jobIds.filter((_, i) => jobs[i] === undefined || !holds(jobs[i]!));
      return pending.length === 0
        ? done(jobs as Record<string, unknown>[])
        : notYet({ pending: pending.length, statuses: jobs.map((job) => job?.status) });
    },
    { what, timeoutMs: deadlineMs, intervalMs: 1_000 },
  );
}

describe('GPU inference', () => {
  it('takes requests to DONE through the scale-from-zero path, a repeated request included', {
    timeout: testTimeoutMs,
  }, async () => {
    // Prepare
    const prefix = uniquePrefix('inference');
    const jobIds = Array.from({ length: 20 }, (_, i) => `${prefix}/photo-${i}`);
    const requests = jobIds.map((jobId, i) => ({ jobId, model: 'shelf-classifier', input: image(i) }));
    // Act: every request, one of them twice (a redelivery or a client retry).
    await sendBodies(gpu.inferenceRequestsQueueUrl, [...requests, requests[0]]);
    const jobs = await waitForJobs(
      jobIds,
      (job) => job.status === 'DONE' || job.status === 'FAILED',
      'terminal jobs',
    );
    await waitForQueueIdle(gpu.gpuWorkQueueUrl);
    const workDeadLetters = await new DeadLetterReader(gpu.gpuWorkDeadLetterQueueUrl, prefix).sweep();
    // Assess
    expect(jobs.map((job) => job.status)).toEqual(jobIds.map(() => 'DONE'));
    expect(workDeadLetters).toEqual([]);
    for (const [i, job] of jobs.entries()) {
      const output = job.output as { shape: number[]; data: number[] };
      expect(job).toMatchObject({ jobId: jobIds[i], model: 'shelf-classifier', modelVersion: '1' });
      expect(output.shape).toEqual([10]);
      // A softmax over 10 classes, and topClass is its arg-max.
      expect(output.data.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 4);
      expect(job.topClass).toBe(output.data.indexOf(Math.max(...output.data)));
    }
  });

  it('records a FAILED job with the reason and dead-letters requests the dispatcher refuses', {
    timeout: testTimeoutMs,
  }, async () => {
    // Prepare
    const prefix = uniquePrefix('inference-bad');
    const badShape = {
      jobId: `${prefix}/bad-shape`,
      model: 'shelf-classifier',
      input: { shape: [3, 32], data: [1, 2] },
    };
    const unknownModel = { jobId: `${prefix}/unknown-model`, model: `${prefix}-model`, input: image(0) };
    const requestsDlq = new DeadLetterReader(gpu.inferenceRequestsDeadLetterQueueUrl, prefix);
    // Act
    const ids = await sendBodies(gpu.inferenceRequestsQueueUrl, [
      badShape,
      unknownModel,
      `not json ${prefix}`,
    ]);
    const letters = await requestsDlq.waitFor((l) => l.length >= 3, 'three refused requests');
    const [shapeJob, modelJob] = await waitForJobs(
      [badShape.jobId, unknownModel.jobId],
      (job) => job.status === 'FAILED',
      'FAILED records',
    );
    // Assess
    const bySource = new Map(letters.map((letter) => [letter.sourceMessageId, letter.errorCode]));
    expect(ids.map((id) => bySource.get(id))).toEqual([
      'INVALID_INFERENCE_REQUEST',
      'UNKNOWN_MODEL',
      'INVALID_INFERENCE_REQUEST',
    ]);
    expect(shapeJob).toMatchObject({ status: 'FAILED', error: { code: 'INVALID_INFERENCE_REQUEST' } });
    expect((shapeJob!.error as { message: string }).message).toContain(
      'input.data: has 2 values; shape [3, 32] needs 96',
    );
    expect(modelJob).toMatchObject({ status: 'FAILED', error: { code: 'UNKNOWN_MODEL' } });
  });
});
