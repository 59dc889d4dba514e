import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdaptiveBatchLimit } from '../../../../functions/gpu-worker/batch-limit.ts';
import { UnsupportedS3InputReader } from '../../../../functions/gpu-worker/inputs.ts';
import { jobTracer, noJobTracing } from '../../../../functions/gpu-worker/job-tracing.ts';
import { ModelRegistry } from '../../../../functions/gpu-worker/models.ts';
import { NoTaskProtection } from '../../../../functions/gpu-worker/task-protection.ts';
import { GpuWorker } from '../../../../functions/gpu-worker/worker.ts';
import { jobsTableTarget } from '../../../../shared/pipeline/inference/job-status.ts';
import { encodeJobTraces } from '../../../../shared/pipeline/inference/work-message.ts';
import { tracingOff } from '../../../../shared/tracing/index.ts';
import {
  FakeBackend,
  FakeJobStore,
  FakeWorkSource,
  silentLogger,
  until,
  workJob,
} from '../../../support/fakes/inference.ts';
import { type MemoryTracing, memoryTracing, traceparentOf } from '../../../support/fakes/tracing.ts';

let memory: MemoryTracing;
beforeEach(async () => {
  memory = await memoryTracing('gpu-worker');
});
afterEach(async () => {
  await memory.close();
});

function tracedWorker() {
  const source = new FakeWorkSource();
  const jobs = new FakeJobStore();
  const worker = new GpuWorker(
    {
      source,
      models: new ModelRegistry(new FakeBackend()),
      jobs,
      table: jobsTableTarget('jobs'),
      s3: new UnsupportedS3InputReader(),
      protection: new NoTaskProtection(),
      batchLimit: new AdaptiveBatchLimit({ max: 8 }),
      logger: silentLogger,
      tracer: jobTracer(memory.tracing),
    },
    {
      workerId: 'w',
      defaultModel: { name: 'tiny', version: '1' },
      maxDelayMs: 50,
      receiveWaitSeconds: 0,
      maxInFlightJobs: 64,
      visibilityTimeoutSeconds: 30,
      heartbeatIntervalMs: 60_000,
      maxBatchDurationMs: 10_000,
      stopTimeoutMs: 5_000,
    },
  );
  return { source, worker };
}

const byName = (spans: readonly ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const jobSpan = (spans: readonly ReadableSpan[], jobId: string) =>
  spans.find((s) => s.attributes['pipeline.job.id'] === jobId)!;

describe('GpuWorker spans', () => {
  it('continues each job’s own trace, falls back to the message’s, and links the batch to every job', async () => {
    // Prepare
    const { source, worker } = tracedWorker();
    const dispatch = traceparentOf('d');
    source.push([workJob('a'), workJob('b')], 2, {
      traceparent: dispatch,
      jobTraces: encodeJobTraces([{ traceparent: traceparentOf('a') }, undefined]),
    });
    await worker.start();
    // Act
    const running = worker.run();
    await until(() => source.deleted.length === 1);
    worker.stop('test');
    await running;
    const spans = await memory.spans();
    // Assess
    const a = jobSpan(spans, 'a');
    const b = jobSpan(spans, 'b');
    expect(a).toMatchObject({
      name: 'job tiny@1',
      kind: SpanKind.CONSUMER,
      parentSpanContext: { traceId: 'a'.repeat(32), spanId: 'a'.repeat(16) },
      attributes: { 'pipeline.job.outcome': 'DONE', 'pipeline.job.attempt': 2, 'messaging.message.id': 'm1' },
      status: { code: SpanStatusCode.UNSET },
    });
    expect(a.spanContext().traceId).toBe('a'.repeat(32));
    expect(a.links.map((l) => l.context.spanId)).toEqual(['d'.repeat(16)]);
    expect(b.spanContext().traceId).toBe('d'.repeat(32));
    expect(b.parentSpanContext?.spanId).toBe('d'.repeat(16));
    expect(b.links).toEqual([]);
    const [batch, ...more] = byName(spans, 'infer tiny@1');
    expect(more).toEqual([]);
    expect(batch!.parentSpanContext).toBeUndefined();
    expect(batch!.attributes).toMatchObject({ 'pipeline.batch.size': 2, 'pipeline.model': 'tiny' });
    expect(batch!.links.map((l) => l.context.spanId).sort()).toEqual(
      [a.spanContext().spanId, b.spanContext().spanId].sort(),
    );
  });

  it('marks a FAILED job’s span ERROR with its code, and starts a new trace for a job without any context', async () => {
    // Prepare
    const { source, worker } = tracedWorker();
    source.push([{ ...workJob('bad'), input: { shape: [3], data: [1, 2, 3] } }]);
    await worker.start();
    // Act
    const running = worker.run();
    await until(() => source.deleted.length === 1);
    worker.stop('test');
    await running;
    const spans = await memory.spans();
    // Assess
    const bad = jobSpan(spans, 'bad');
    expect(bad.parentSpanContext).toBeUndefined();
    expect(bad).toMatchObject({
      status: { code: SpanStatusCode.ERROR },
      attributes: { 'pipeline.job.outcome': 'FAILED', 'pipeline.error.code': 'INPUT_SHAPE_MISMATCH' },
    });
    expect(byName(spans, 'infer tiny@1')).toEqual([]);
  });

  it('creates nothing with tracing off', () => {
    // Act
    const tracer = jobTracer(tracingOff);
    // Assess
    expect(tracer).toBe(noJobTracing);
    expect(
      tracer.startJobs({ messageId: 'm', receiptHandle: 'r', body: '', receiveCount: 1 }, [workJob('a')]),
    ).toEqual([]);
  });
});
