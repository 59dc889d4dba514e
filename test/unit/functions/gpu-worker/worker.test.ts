import { describe, expect, it } from 'vitest';
import { AdaptiveBatchLimit } from '../../../../functions/gpu-worker/batch-limit.ts';
import { UnsupportedS3InputReader } from '../../../../functions/gpu-worker/inputs.ts';
import { backoffSeconds } from '../../../../functions/gpu-worker/message-ledger.ts';
import { ModelRegistry } from '../../../../functions/gpu-worker/models.ts';
import { NoTaskProtection, type TaskProtection } from '../../../../functions/gpu-worker/task-protection.ts';
import { GpuWorker, type WorkerOptions } from '../../../../functions/gpu-worker/worker.ts';
import { InferenceBackendError } from '../../../../shared/pipeline/inference/errors.ts';
import { jobsTableTarget } from '../../../../shared/pipeline/inference/job-status.ts';
import {
  FakeBackend,
  FakeJobStore,
  FakeWorkSource,
  silentLogger,
  until,
  workJob,
} from '../../../support/fakes/inference.ts';

function setup(
  options: {
    backend?: FakeBackend;
    maxBatch?: number;
    protection?: TaskProtection;
  } & Partial<WorkerOptions> = {},
) {
  const source = new FakeWorkSource();
  const jobs = new FakeJobStore();
  const backend = options.backend ?? new FakeBackend();
  const worker = new GpuWorker(
    {
      source,
      models: new ModelRegistry(backend),
      jobs,
      table: jobsTableTarget('jobs'),
      s3: new UnsupportedS3InputReader(),
      protection: options.protection ?? new NoTaskProtection(),
      batchLimit: new AdaptiveBatchLimit({ max: options.maxBatch ?? 8 }),
      logger: silentLogger,
    },
    {
      workerId: 'test-worker',
      defaultModel: { name: 'tiny', version: '1' },
      maxDelayMs: options.maxDelayMs ?? 5,
      receiveWaitSeconds: 0,
      maxInFlightJobs: options.maxInFlightJobs ?? 64,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 60_000,
      maxBatchDurationMs: options.maxBatchDurationMs ?? 10_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 5_000,
    },
  );
  return { source, jobs, backend, worker };
}

describe('GpuWorker', () => {
  it('batches jobs across messages into one inference call and writes DONE outputs', async () => {
    // Prepare
    const { source, jobs, backend, worker } = setup({ maxBatch: 8, maxDelayMs: 50 });
    source.push([workJob('a', [1, 2, 3, 4]), workJob('b', [0, 0, 0, 5])]);
    source.push([workJob('c', [1, 1, 1, 1])]);
    await worker.start();
    backend.batches.length = 0;
    // Act
    const running = worker.run();
    await until(() => source.deleted.length === 2);
    worker.stop('test');
    await running;
    // Assess
    expect(backend.batches).toEqual([3]);
    expect(jobs.items.get('a')?.item).toMatchObject({
      status: 'DONE',
      output: { shape: [2], data: [10, 4] },
      topClass: 0,
    });
    expect(jobs.items.get('b')?.item).toMatchObject({
      status: 'DONE',
      topClass: 0,
      output: { data: [5, 5] },
    });
    expect(jobs.items.get('c')?.item).toMatchObject({ status: 'DONE', workerId: 'test-worker', attempt: 1 });
  });

  it('deletes a message only after every job in it has a durable final record', async () => {
    // Prepare
    const { source, jobs, worker } = setup();
    jobs.failFor = (r) => r.op === 'put' && r.item.jobId === 'b' && r.item.status === 'DONE';
    const message = source.push([workJob('a'), workJob('b')], 2);
    await worker.start();
    // Act
    const running = worker.run();
    await until(() => source.visibility.length === 1);
    worker.stop('test');
    await running;
    // Assess
    expect(source.deleted).toEqual([]);
    expect(source.visibility).toEqual([{ messageId: message.messageId, seconds: backoffSeconds(2) }]);
    expect(jobs.status('a')).toBe('DONE');
  });

  it('fails a job with bad input at once and deletes its message', async () => {
    // Prepare
    const { source, jobs, worker } = setup();
    const message = source.push([
      { ...workJob('bad'), input: { shape: [3], data: [1, 2, 3] } },
      { ...workJob('s3'), input: { s3Uri: 's3://bucket/key.json' } },
      { ...workJob('gone'), model: 'missing' },
    ]);
    await worker.start();
    // Act
    const running = worker.run();
    await until(() => source.deleted.length === 1);
    worker.stop('test');
    await running;
    // Assess
    expect(source.deleted).toEqual([message.messageId]);
    expect(jobs.items.get('bad')?.item).toMatchObject({
      status: 'FAILED',
      error: { code: 'INPUT_SHAPE_MISMATCH' },
    });
    expect(jobs.items.get('s3')?.item).toMatchObject({
      status: 'FAILED',
      error: { code: 'S3_INPUT_UNSUPPORTED' },
    });
    expect(jobs.items.get('gone')?.item).toMatchObject({ status: 'FAILED' });
  });

  it('hands a message back with a backoff, undeleted, when inference fails transiently', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { source, jobs, worker } = setup({ backend });
    await worker.start();
    backend.options = { failWith: () => new InferenceBackendError('fake', 'device lost') };
    const message = source.push([workJob('a')], 3);
    // Act
    const running = worker.run();
    await until(() => source.visibility.length === 1);
    worker.stop('test');
    await running;
    // Assess
    expect(source.deleted).toEqual([]);
    expect(source.visibility).toEqual([{ messageId: message.messageId, seconds: 4 }]);
    expect(jobs.status('a')).toBe('RUNNING');
  });

  it('splits a batch that runs out of GPU memory and lowers the batch limit', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { source, jobs, worker } = setup({ backend, maxBatch: 8, maxDelayMs: 50 });
    await worker.start();
    backend.options = { memoryLimit: 3 };
    backend.batches.length = 0;
    source.push(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => workJob(id)));
    // Act
    const running = worker.run();
    await until(() => source.deleted.length === 1);
    source.push(['i', 'j', 'k', 'l'].map((id) => workJob(id)));
    await until(() => source.deleted.length === 2);
    worker.stop('test');
    await running;
    // Assess
    expect(backend.batches.slice(0, 4)).toEqual([2, 2, 2, 2]);
    expect(backend.batches.slice(4)).toEqual([2, 2]);
    expect([...jobs.items.values()].every((r) => r.item.status === 'DONE')).toBe(true);
  });

  it('on stop, finishes the running batch and hands back the jobs not yet started', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { source, jobs, worker } = setup({ backend, maxBatch: 2, maxDelayMs: 50 });
    await worker.start();
    backend.options = { delayMs: Number.POSITIVE_INFINITY };
    const first = source.push([workJob('a'), workJob('b')]);
    const second = source.push([workJob('c'), workJob('d')]);
    const running = worker.run();
    await until(() => backend.release !== undefined);
    // Act
    worker.stop('SIGTERM');
    backend.release?.();
    const report = await running;
    // Assess
    expect(jobs.status('a')).toBe('DONE');
    expect(jobs.status('b')).toBe('DONE');
    expect(jobs.status('c')).toBeUndefined();
    expect(source.deleted).toEqual([first.messageId]);
    expect(source.visibility).toEqual([{ messageId: second.messageId, seconds: 0 }]);
    expect(report).toMatchObject({ reason: 'SIGTERM', unhealthy: false, released: 1, timedOut: false });
  });

  it('lets a receive in flight at stop finish and hands back what it returned, instead of losing it', async () => {
    // Prepare: the worker polls an empty queue
    const { source, jobs, worker } = setup();
    await worker.start();
    const running = worker.run();
    await until(() => source.receives > 0);
    // Act: SQS hands out a message to the poll in flight just as the stop comes
    worker.stop('SIGTERM');
    const message = source.push([workJob('late')]);
    const report = await running;
    // Assess: visible again at once, not invisible for the visibility timeout; nothing written
    expect(source.visibility).toEqual([{ messageId: message.messageId, seconds: 0 }]);
    expect(source.deleted).toEqual([]);
    expect(jobs.status('late')).toBeUndefined();
    expect(report).toMatchObject({ reason: 'SIGTERM', released: 1 });
  });

  it('hands everything back when the running batch outlasts the stop budget', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { source, worker } = setup({ backend, stopTimeoutMs: 50 });
    await worker.start();
    backend.options = { delayMs: Number.POSITIVE_INFINITY };
    const message = source.push([workJob('a')]);
    const running = worker.run();
    await until(() => backend.release !== undefined);
    // Act
    worker.stop('SIGTERM');
    const report = await running;
    // Assess
    expect(report.timedOut).toBe(true);
    expect(source.visibility).toEqual([{ messageId: message.messageId, seconds: 0 }]);
    expect(source.deleted).toEqual([]);
  });

  it('stops as unhealthy and retries the jobs when inference hangs past maxBatchDurationMs', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { source, worker } = setup({ backend, maxBatchDurationMs: 20 });
    await worker.start();
    backend.options = { delayMs: Number.POSITIVE_INFINITY };
    const message = source.push([workJob('a')]);
    // Act
    const report = await worker.run();
    // Assess
    expect(report).toMatchObject({ reason: 'inference hung', unhealthy: true });
    expect(source.visibility).toEqual([{ messageId: message.messageId, seconds: 0 }]);
  });

  it('holds task protection while messages are in flight and drops it when idle', async () => {
    // Prepare
    const calls: boolean[] = [];
    const protection: TaskProtection = {
      setBusy: async (busy) => {
        calls.push(busy);
      },
    };
    const { source, worker } = setup({ protection });
    await worker.start();
    source.push([workJob('a')]);
    // Act
    const running = worker.run();
    await until(() => source.deleted.length === 1);
    worker.stop('test');
    await running;
    // Assess
    expect(calls).toEqual([true, false]);
  });

  it('extends the visibility of messages still in flight on every heartbeat', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { source, worker } = setup({ backend, heartbeatIntervalMs: 300, visibilityTimeoutSeconds: 1 });
    await worker.start();
    backend.options = { delayMs: Number.POSITIVE_INFINITY };
    const message = source.push([workJob('a')]);
    const running = worker.run();
    // Act
    await until(() => source.visibility.length >= 1);
    backend.release?.();
    await until(() => source.deleted.length === 1);
    worker.stop('test');
    await running;
    // Assess
    expect(source.visibility[0]).toEqual({ messageId: message.messageId, seconds: 1 });
  });

  it('backs off a body that is not a work message, without writing anything', async () => {
    // Prepare
    const { source, jobs, worker } = setup();
    await worker.start();
    const message = source.pushBody('{"v":1,"jobs":[]}', 1);
    // Act
    const running = worker.run();
    await until(() => source.visibility.length === 1);
    worker.stop('test');
    await running;
    // Assess
    expect(source.visibility).toEqual([{ messageId: message.messageId, seconds: 1 }]);
    expect(jobs.requests).toEqual([]);
  });
});
