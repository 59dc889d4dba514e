import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../shared/local/poll.ts';
import {
  countWithStatus,
  type InferenceCloud,
  inferenceCloud,
  maxDiffFromReference,
  nextWorkerTask,
  requestBody,
  sendRequests,
  settledDepth,
  waitForTerminal,
  withWorkVisibilityTimeout,
} from './support.ts';

// A GPU task of the deployed service stopped or crashed in the middle of the work, on the local
// cloud: the ECS service replaces it (a new worker process) and the jobs still all finish.
const JOBS = 480;
let fx: InferenceCloud | undefined;

afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function enqueue(f: InferenceCloud): Promise<Map<string, number>> {
  const seeds = new Map(Array.from({ length: JOBS }, (_, i) => [`job-${i}`, i] as const));
  await sendRequests(
    f,
    [...seeds].map(([jobId, seed]) => requestBody(jobId, seed)),
  );
  return seeds;
}

/** Resolves once the task has turned its scale-in protection on (it holds jobs). */
async function protectedTask(f: InferenceCloud, taskArn: string): Promise<boolean> {
  return waitUntil(() => (f.workers.task(taskArn)?.protection.protectionEnabled ? true : undefined), {
    what: 'a task holding jobs to turn on its scale-in protection',
    intervalMs: 20,
  });
}

describe('GPU tasks stopped and crashed', () => {
  it('loses no job when SIGTERM arrives in the middle of the work: it finishes the batch and hands the rest back', async () => {
    // Prepare: the template's gpu-work visibility timeout (300 s) outlasts the test, so only a
    // hand-back lets the rest run. Worker variables over the template's: batches of 4 (the stack's
    // `maxBatch` prop) and debug logs, as on CPU the demo model infers 32 jobs in milliseconds and
    // the test must catch a task mid-work; one receive held at a time, so that the stop never meets
    // a receive in flight (an aborted receive's messages stay invisible for the visibility timeout).
    fx = await inferenceCloud({
      workerEnvironment: { MAX_BATCH: '4', MAX_IN_FLIGHT_JOBS: '1', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    });
    const seeds = await enqueue(fx);
    const first = await nextWorkerTask(fx);
    let batches = 0;
    await first.worker.waitFor((e) => e.message === 'batch started' && ++batches === 3);
    // Act: as ECS stops a task (StopTask, a deployment); the service starts a replacement.
    first.worker.signal('SIGTERM');
    const exit = await first.worker.exited;
    const stopping = first.worker.logs.find((e) => e.message === 'worker stopping');
    const stopped = first.worker.logs.find((e) => e.message === 'worker stopped');
    const doneBySecond = JOBS - (await countWithStatus(fx, 'DONE'));
    const second = await nextWorkerTask(fx, [first.taskArn]);
    const records = await waitForTerminal(fx, JOBS);
    // Assess
    expect(exit.code).toBe(0);
    expect(stopping?.jobsInFlight).toBeGreaterThan(0);
    expect(stopped).toMatchObject({ reason: 'SIGTERM', timedOut: false, unhealthy: false });
    expect(stopped?.released).toBeGreaterThan(0);
    expect(doneBySecond).toBeGreaterThan(0);
    const done = [...records.values()].filter((r) => r.status === 'DONE');
    expect(done).toHaveLength(JOBS);
    expect(done.some((r) => r.workerId === second.workerId)).toBe(true);
    expect(done.every((r) => r.workerId === first.workerId || r.workerId === second.workerId)).toBe(true);
    expect(maxDiffFromReference(fx.model, records, seeds)).toBeLessThan(1e-5);
    expect(await settledDepth(fx, fx.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await settledDepth(fx, fx.workDlqUrl, 0)).toEqual({ visible: 0, inFlight: 0 });
    // Idle again, the task drops its scale-in protection: the service may scale it in.
    await waitUntil(
      () => (fx!.workers.task(second.taskArn)?.protection.protectionEnabled === false ? true : undefined),
      { what: 'the idle task to drop its protection' },
    );
  });

  it('completes every job after a task is killed with SIGKILL: its messages come back and run again', async () => {
    // Prepare: a variant of the template's gpu-work visibility timeout (300 s), so that the dead
    // task's messages come back within the test; the workers are told the same timeout and renew
    // it often enough, as a deployment with that setting would (otherwise messages still being
    // worked on reappear after 8 s and, redelivered, run up their receive count to the DLQ).
    // Batches of 4 and at most 16 jobs held, with debug logs: on CPU the demo model would otherwise
    // finish all the jobs before the kill lands, and the kill must find the task holding jobs it has
    // not finished (held jobs whose DONE record is already durable come back as stale no-ops).
    fx = await inferenceCloud({
      assembly: (assembly) => withWorkVisibilityTimeout(assembly, 8),
      workerEnvironment: {
        VISIBILITY_TIMEOUT_SECONDS: '8',
        HEARTBEAT_INTERVAL_MS: '2000',
        MAX_BATCH: '4',
        MAX_IN_FLIGHT_JOBS: '16',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
      },
    });
    const seeds = await enqueue(fx);
    const first = await nextWorkerTask(fx);
    const firstReady = await first.worker.ready;
    let batches = 0;
    await first.worker.waitFor((e) => e.message === 'batch started' && ++batches === 3);
    const protectedMidWork = await protectedTask(fx, first.taskArn);
    // Act: as an instance failure ends a task; the service starts a replacement.
    first.worker.signal('SIGKILL');
    const exit = await first.worker.exited;
    const doneByFirst = await countWithStatus(fx, 'DONE');
    const second = await nextWorkerTask(fx, [first.taskArn]);
    const records = await waitForTerminal(fx, JOBS);
    // Assess
    expect(exit.signal).toBe('SIGKILL');
    expect(firstReady).toBeDefined();
    expect(protectedMidWork).toBe(true);
    expect(doneByFirst).toBeLessThan(JOBS);
    const done = [...records.values()].filter((r) => r.status === 'DONE');
    expect(done).toHaveLength(JOBS);
    expect(done.some((r) => r.workerId === second.workerId && (r.attempt ?? 0) >= 2)).toBe(true);
    expect(maxDiffFromReference(fx.model, records, seeds)).toBeLessThan(1e-5);
    expect(await settledDepth(fx, fx.workQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});
