import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../shared/local/poll.ts';
import { inferenceSettings } from '../../../shared/pipeline/inference/settings.ts';
import { parseWorkMessage } from '../../../shared/pipeline/inference/work-message.ts';
import {
  type InferenceCloud,
  inferenceCloud,
  jobRecords,
  queueDepth,
  receiveUntil,
  requestBody,
  sendRequests,
} from './support.ts';

// The bundled dispatcher Lambda behind its event source, as deployed. The GPU tasks here cannot start
// (their model repository is empty), as while a scaled-from-zero service waits for its GPU capacity:
// gpu-work keeps what the dispatcher sent, for the test to read.
let fx: InferenceCloud;
let emptyRepository: string;

beforeAll(async () => {
  emptyRepository = await mkdtemp(join(tmpdir(), 'no-models-'));
  fx = await inferenceCloud({ modelRepository: emptyRepository });
});

afterAll(async () => {
  await fx?.close();
  await rm(emptyRepository, { recursive: true, force: true });
});

describe('the inference dispatcher Lambda on the local cloud', () => {
  it('records QUEUED jobs, packs them into gpu-work messages of at most the template maximum, and scales the service from zero', async () => {
    // Prepare
    const ids = Array.from({ length: 40 }, (_, i) => `d-${i}`);
    const maxJobs = inferenceSettings.workMessage.maxJobs;
    const desiredBefore = fx.workers.desiredCount;
    // Act
    await sendRequests(
      fx,
      ids.map((id, i) => requestBody(id, i)),
    );
    await fx.cloud.drain(30_000);
    const records = await waitUntil(
      async () => {
        const found = await jobRecords(fx);
        return found.size >= ids.length ? found : undefined;
      },
      { what: '40 job records' },
    );
    const minMessages = Math.ceil(ids.length / maxJobs);
    const jobsIn = (messages: readonly { MessageId?: string; Body?: string }[]) =>
      messages.map((m) => parseWorkMessage(m.MessageId!, m.Body!).jobs);
    const received = await receiveUntil(fx, fx.workQueueUrl, (m) => jobsIn(m).flat().length >= ids.length);
    // Assess
    expect(desiredBefore).toBe(0);
    expect(fx.workers.desiredCount).toBe(1);
    expect(ids.map((id) => records.get(id)?.status)).toEqual(ids.map(() => 'QUEUED'));
    expect(records.get('d-0')).toMatchObject({
      model: 'shelf-classifier',
      modelVersion: '1',
      queuedAt: expect.any(Number),
    });
    const jobs = jobsIn(received);
    expect(
      jobs
        .flat()
        .map((j) => j.jobId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(jobs.length).toBeGreaterThanOrEqual(minMessages);
    expect(Math.max(...jobs.map((j) => j.length))).toBeLessThanOrEqual(maxJobs);
    expect(fx.dispatcher.stats).toMatchObject({ records: 40, deleted: 40, failed: 0, failedInvocations: 0 });
    expect(await queueDepth(fx, fx.requestsDlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(fx.pollerErrors).toEqual([]);
  });
});
