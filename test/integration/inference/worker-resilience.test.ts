import { afterEach, describe, expect, it } from 'vitest';
import {
  dispatchBodies,
  type InferenceFixture,
  inferenceFixture,
  jobRecords,
  maxDiffFromReference,
  queueDepth,
  requestBody,
  waitForTerminal,
} from './support.ts';

const JOBS = 480;
let fixture: InferenceFixture | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function enqueue(f: InferenceFixture): Promise<Map<string, number>> {
  const seeds = new Map(Array.from({ length: JOBS }, (_, i) => [`job-${i}`, i] as const));
  const bodies = [...seeds].map(([jobId, seed]) => requestBody(jobId, seed));
  for (let i = 0; i < bodies.length; i += 100) {
    const response = await dispatchBodies(f, bodies.slice(i, i + 100));
    expect(response.batchItemFailures).toEqual([]);
  }
  return seeds;
}

describe('GPU worker stops and crashes', () => {
  it('loses no job when SIGTERM arrives in the middle of the work: it finishes the batch and hands the rest back', async () => {
    // Prepare: a visibility timeout longer than the test, so only a hand-back lets the rest run.
    fixture = await inferenceFixture({ workVisibilityTimeoutSeconds: 600 });
    const seeds = await enqueue(fixture);
    const first = fixture.startWorker({ MAX_BATCH: '4', MAX_DELAY_MS: '5', MAX_IN_FLIGHT_JOBS: '64' });
    let batches = 0;
    await first.waitFor((e) => e.message === 'batch started' && ++batches === 3);
    // Act: the third batch is on its way through inference and its writes.
    first.signal('SIGTERM');
    const exit = await first.exited;
    const stopped = first.logs.find((e) => e.message === 'worker stopped');
    const doneBySecond =
      JOBS - [...(await jobRecords(fixture)).values()].filter((r) => r.status === 'DONE').length;
    const second = fixture.startWorker({ MAX_BATCH: '32', MAX_DELAY_MS: '5' });
    const records = await waitForTerminal(fixture, JOBS);
    // Assess
    expect(exit.code).toBe(0);
    expect(stopped).toMatchObject({ reason: 'SIGTERM', timedOut: false, unhealthy: false });
    expect(stopped?.released).toBeGreaterThan(0);
    expect(doneBySecond).toBeGreaterThan(0);
    expect([...records.values()].filter((r) => r.status === 'DONE')).toHaveLength(JOBS);
    expect(maxDiffFromReference(fixture.model, records, seeds)).toBeLessThan(1e-5);
    expect(await queueDepth(fixture, fixture.resources.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await queueDepth(fixture, fixture.resources.workDlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    await second.stop();
  });

  it('completes every job after a worker is killed with SIGKILL: its messages come back and run again', async () => {
    // Prepare: a short visibility timeout so the dead worker's messages return soon.
    fixture = await inferenceFixture({ workVisibilityTimeoutSeconds: 4 });
    const seeds = await enqueue(fixture);
    const first = fixture.startWorker({ MAX_BATCH: '4', MAX_DELAY_MS: '5', MAX_IN_FLIGHT_JOBS: '64' });
    const firstReady = await first.ready;
    await first.waitFor((e) => e.message === 'batch done');
    // Act
    first.signal('SIGKILL');
    const exit = await first.exited;
    const second = fixture.startWorker({ MAX_BATCH: '32', MAX_DELAY_MS: '5', WORKER_ID: 'second' });
    const records = await waitForTerminal(fixture, JOBS);
    // Assess
    expect(exit.signal).toBe('SIGKILL');
    expect(firstReady).toBeDefined();
    const done = [...records.values()].filter((r) => r.status === 'DONE');
    expect(done).toHaveLength(JOBS);
    expect(done.some((r) => r.workerId === 'second' && (r.attempt ?? 0) >= 2)).toBe(true);
    expect(maxDiffFromReference(fixture.model, records, seeds)).toBeLessThan(1e-5);
    expect(await queueDepth(fixture, fixture.resources.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    await second.stop();
  });
});
