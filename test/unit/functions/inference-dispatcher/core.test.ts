import { describe, expect, it, vi } from 'vitest';
import { type DispatchDeps, dispatchRequests } from '../../../../functions/inference-dispatcher/core.ts';
import { StaticModelVersionResolver } from '../../../../functions/inference-dispatcher/model-version.ts';
import type { ServiceScaler } from '../../../../functions/inference-dispatcher/ports.ts';
import { jobsTableTarget } from '../../../../shared/pipeline/inference/job-status.ts';
import { JOB_TRACES_ATTRIBUTE, parseJobTraces } from '../../../../shared/pipeline/inference/work-message.ts';
import { sqsRecord } from '../../../support/factories/sqs.ts';
import { FakeDeadLetters, FakeJobStore, FakeSink, requestRecord } from '../../../support/fakes/inference.ts';
import { traceparentOf } from '../../../support/fakes/tracing.ts';

function deps(overrides: Partial<DispatchDeps> = {}) {
  const jobs = new FakeJobStore();
  const work = new FakeSink();
  const deadLetters = new FakeDeadLetters();
  const scaler: ServiceScaler = { ensureRunning: vi.fn(async () => 'scaled-from-zero' as const) };
  const terminal = new Set<string>();
  const all: DispatchDeps = {
    jobs,
    statuses: { terminalJobIds: async (ids) => new Set(ids.filter((id) => terminal.has(id))) },
    work,
    deadLetters,
    scaler,
    versions: new StaticModelVersionResolver({ tiny: '7' }),
    table: jobsTableTarget('jobs'),
    deadline: { at: Date.now() + 10_000 },
    now: () => 1_700_000_000_000,
    ...overrides,
  };
  return { deps: all, jobs, work, deadLetters, scaler, terminal };
}

describe('dispatchRequests', () => {
  it('writes a QUEUED record per job and sends the jobs to gpu-work with the resolved model version', async () => {
    // Prepare
    const { deps: d, jobs, work } = deps();
    const records = [requestRecord('a'), requestRecord('b')];
    // Act
    const result = await dispatchRequests(records, d);
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(jobs.status('a')).toBe('QUEUED');
    expect(jobs.items.get('a')).toMatchObject({
      version: 1,
      item: { modelVersion: '7', queuedAt: 1_700_000_000_000 },
    });
    expect(work.jobs().map((j) => [j.jobId, j.modelVersion])).toEqual([
      ['a', '7'],
      ['b', '7'],
    ]);
    expect(work.sent).toHaveLength(1);
    expect(result.stats).toMatchObject({ received: 2, queued: 2, workMessages: 1, deadLettered: 0 });
  });

  it('gives an invalid request a FAILED record naming the bad field and sends it to the DLQ', async () => {
    // Prepare
    const { deps: d, jobs, work, deadLetters } = deps();
    const bad = requestRecord('bad', { input: { shape: [2, 2], data: [1] } });
    // Act
    const result = await dispatchRequests([bad], d);
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(jobs.items.get('bad')).toMatchObject({
      version: 3,
      item: { status: 'FAILED', error: { code: 'INVALID_INFERENCE_REQUEST' } },
    });
    const error = jobs.items.get('bad')?.item.error as { message: string } | undefined;
    expect(error?.message).toContain('input.data');
    expect(deadLetters.letters.map((l) => [l.messageId, l.errorCode])).toEqual([
      [bad.messageId, 'INVALID_INFERENCE_REQUEST'],
    ]);
    expect(work.sent).toEqual([]);
  });

  it('sends a body without a usable jobId to the DLQ without writing a record', async () => {
    // Prepare
    const { deps: d, jobs, deadLetters } = deps();
    // Act
    const result = await dispatchRequests([sqsRecord('not json')], d);
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(jobs.requests).toEqual([]);
    expect(deadLetters.letters).toHaveLength(1);
  });

  it('fails a request for a model no version serves, as the request’s fault', async () => {
    // Prepare
    const { deps: d, jobs, deadLetters } = deps();
    // Act
    await dispatchRequests([requestRecord('x', { model: 'other' })], d);
    // Assess
    expect(jobs.items.get('x')?.item).toMatchObject({
      status: 'FAILED',
      model: 'other',
      error: { code: 'UNKNOWN_MODEL' },
    });
    expect(deadLetters.letters[0]?.errorCode).toBe('UNKNOWN_MODEL');
  });

  it('retries, rather than fails, a request whose model version lookup errors', async () => {
    // Prepare
    const { deps: d, jobs } = deps({
      versions: {
        resolve: async () => {
          throw new Error('snapshot table unreachable');
        },
      },
    });
    const record = requestRecord('a');
    // Act
    const result = await dispatchRequests([record], d);
    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(jobs.requests).toEqual([]);
  });

  it('sends a jobId once when it appears twice in a batch', async () => {
    // Prepare
    const { deps: d, work } = deps();
    // Act
    const result = await dispatchRequests([requestRecord('a'), requestRecord('a')], d);
    // Assess
    expect(work.jobs().map((j) => j.jobId)).toEqual(['a']);
    expect(result.stats.duplicates).toBe(1);
    expect(result.batchItemFailures).toEqual([]);
  });

  it('skips a redelivered job that already finished, and re-sends one that has not', async () => {
    // Prepare
    const { deps: d, jobs, work, terminal } = deps();
    await dispatchRequests([requestRecord('done'), requestRecord('lost')], d);
    jobs.apply({ op: 'put', target: d.table, item: { jobId: 'done', status: 'DONE' }, version: 3 });
    terminal.add('done');
    work.sent.length = 0;
    // Act
    const result = await dispatchRequests([requestRecord('done'), requestRecord('lost')], d);
    // Assess
    expect(work.jobs().map((j) => j.jobId)).toEqual(['lost']);
    expect(jobs.status('done')).toBe('DONE');
    expect(result.stats.duplicates).toBe(1);
  });

  it('reports the records of a work message that could not be sent as batch item failures', async () => {
    // Prepare
    const { deps: d, work } = deps();
    work.fail = true;
    const records = [requestRecord('a'), requestRecord('b')];
    // Act
    const result = await dispatchRequests(records, d);
    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      records.map((r) => r.messageId).sort(),
    );
  });

  it('leaves a request for redelivery when its QUEUED record was not written', async () => {
    // Prepare
    const { deps: d, jobs, work } = deps();
    jobs.failFor = (r) => r.op === 'put' && r.item.jobId === 'b';
    const records = [requestRecord('a'), requestRecord('b')];
    // Act
    const result = await dispatchRequests(records, d);
    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.messageId }]);
    expect(work.jobs().map((j) => j.jobId)).toEqual(['a']);
  });

  it('keeps an invalid request for redelivery when the DLQ does not take it', async () => {
    // Prepare
    const { deps: d, deadLetters } = deps();
    deadLetters.accept = false;
    const record = requestRecord('bad', { model: '' });
    // Act
    const result = await dispatchRequests([record], d);
    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it('raises the worker service from zero once per batch that sent work, and not for an idle one', async () => {
    // Prepare
    const busy = deps();
    const idle = deps();
    // Act
    const sent = await dispatchRequests([requestRecord('a'), requestRecord('b')], busy.deps);
    const none = await dispatchRequests([requestRecord('bad', { model: '' })], idle.deps);
    // Assess
    expect(busy.scaler.ensureRunning).toHaveBeenCalledTimes(1);
    expect(sent.scale).toBe('scaled-from-zero');
    expect(idle.scaler.ensureRunning).not.toHaveBeenCalled();
    expect(none.scale).toBe('idle');
  });

  it('does not fail the batch when the scale-from-zero call fails', async () => {
    // Prepare
    const failure = new Error('ecs:UpdateService denied');
    const { deps: d } = deps({ scaler: { ensureRunning: async () => Promise.reject(failure) } });
    // Act
    const result = await dispatchRequests([requestRecord('a')], d);
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(result.scale).toEqual({ error: failure });
  });

  it('carries each job’s trace context to the worker in the job-traces attribute, only when asked', async () => {
    // Prepare
    const traced = { ...deps(), records: [requestRecord('t1'), requestRecord('t2'), requestRecord('t3')] };
    const contexts = new Map([
      [traced.records[0]!.messageId, { traceparent: traceparentOf('a') }],
      [traced.records[2]!.messageId, { traceparent: traceparentOf('c'), tracestate: 'v=1' }],
    ]);
    const plain = deps();
    // Act
    await dispatchRequests(traced.records, { ...traced.deps, jobTrace: (r) => contexts.get(r.messageId) });
    await dispatchRequests([requestRecord('p1')], plain.deps);
    // Assess
    const [message] = traced.work.sent;
    const attribute = message!.messageAttributes?.[JOB_TRACES_ATTRIBUTE]?.StringValue;
    expect(traced.work.jobs().map((j) => j.jobId)).toEqual(['t1', 't2', 't3']);
    expect(parseJobTraces(attribute, 3)).toEqual([
      { traceparent: traceparentOf('a') },
      undefined,
      { traceparent: traceparentOf('c'), tracestate: 'v=1' },
    ]);
    expect(plain.work.sent[0]!.messageAttributes).toBeUndefined();
  });
});
