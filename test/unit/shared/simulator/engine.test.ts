import { describe, expect, it } from 'vitest';
import {
  defaultPipelineSettings,
  InvalidSimulationError,
  type PipelineSettings,
  type SimWorkload,
  simulate,
  uniformWorkload,
} from '../../../../shared/simulator/index.ts';

const base = { ratePerSec: 2000, durationSeconds: 20, drainSeconds: 30 } as const;

/** A workload whose write units all land on `keys` partition keys, evenly. */
function hotWorkload(keys: number): SimWorkload {
  return {
    ...uniformWorkload(),
    hotKeys: Array.from({ length: keys }, (_, i) => ({ key: `hot#${i}`, share: 1 / keys })),
    tailShare: 0,
  };
}

const roomy: PipelineSettings = {
  ...defaultPipelineSettings,
  eventSource: { ...defaultPipelineSettings.eventSource, maximumConcurrency: 50 },
  table: { billingMode: 'PAY_PER_REQUEST', warmWriteUnitsPerSec: 100_000 },
};

describe('simulate', () => {
  it('gives the same result for the same seed, and another for another seed', () => {
    // Act
    const a = simulate({ ...base, seed: 7 });
    const b = simulate({ ...base, seed: 7 });
    const c = simulate({ ...base, seed: 8 });
    // Assess
    expect(b).toEqual(a);
    expect(c.messages.sent).not.toBe(a.messages.sent);
    expect(c.latencyMs).not.toEqual(a.latencyMs);
  });

  it('accounts for every message sent: written, rejected, dead-lettered, queued or in flight', () => {
    // Prepare: a tenth invalid, a run cut off before the queue drains
    const workload = { ...uniformWorkload(), invalidShare: 0.1 };
    // Act
    const r = simulate({ ratePerSec: 30_000, durationSeconds: 20, workload });
    // Assess
    const m = r.messages;
    expect(m.queued + m.inFlight).toBeGreaterThan(0);
    expect(m.rejected).toBeCloseTo(0.1 * (m.written + m.rejected), 3);
    expect(m.written + m.rejected + m.deadLettered + m.queued + m.inFlight).toBeCloseTo(m.sent, 6);
  });

  it('drains a sustainable rate: everything written, throughput at the rate', () => {
    // Act
    const r = simulate({ ...base });
    // Assess
    expect(r.messages.queued + r.messages.inFlight).toBe(0);
    expect(r.messages.written).toBe(r.messages.sent);
    expect(r.throughputPerSec).toBeGreaterThan(0.9 * base.ratePerSec);
    expect(r.dynamodb.throttledRequests).toBe(0);
  });

  it('throttles one partition key past 1,000 WCU/s, and not once it is sharded or the rate is lower', () => {
    // Act: 1,500 WCU/s on one key; the same over 2 shards; 600 WCU/s on one key
    const hot = simulate({ ...base, ratePerSec: 1500, settings: roomy, workload: hotWorkload(1) });
    const sharded = simulate({ ...base, ratePerSec: 1500, settings: roomy, workload: hotWorkload(2) });
    const slower = simulate({ ...base, ratePerSec: 600, settings: roomy, workload: hotWorkload(1) });
    // Assess
    expect(hot.dynamodb.throttledRequests).toBeGreaterThan(0);
    expect(hot.throughputPerSec).toBeLessThan(1100);
    expect(sharded.dynamodb.throttledRequests).toBe(0);
    expect(slower.dynamodb.throttledRequests).toBe(0);
  });

  it('never runs more invocations than the event source maximum or the reserved concurrency allow', () => {
    // Prepare: a backlog far beyond what 3 (reserved) or 4 (event source) invocations drain
    const capped = (maximumConcurrency: number, reservedConcurrency?: number): PipelineSettings => ({
      ...roomy,
      eventSource: { ...roomy.eventSource, maximumConcurrency },
      lambda: { ...roomy.lambda, ...(reservedConcurrency ? { reservedConcurrency } : {}) },
    });
    // Act
    const es = simulate({ ...base, ratePerSec: 200_000, settings: capped(4) });
    const reserved = simulate({ ...base, ratePerSec: 200_000, settings: capped(20, 3) });
    // Assess
    expect(es.peakConcurrency).toBe(4);
    expect(reserved.peakConcurrency).toBe(3);
    expect(es.series.every((p) => p.concurrency <= 4)).toBe(true);
  });

  it('scales standard-mode pollers up from five batches at a time by 300 a minute', () => {
    // Act: far more than five invocations could drain, for two minutes
    const r = simulate({ ratePerSec: 200_000, durationSeconds: 120, settings: roomy });
    // Assess: 5 → 50 at 5 more a second takes 9 s
    const firstAtCap = r.series.find((p) => p.concurrency === 50)!;
    expect(r.series[0]!.concurrency).toBeLessThanOrEqual(10);
    expect(firstAtCap.t).toBeGreaterThanOrEqual(8);
    expect(firstAtCap.t).toBeLessThanOrEqual(10);
  });

  it('invokes with what one receive returns (at most 10) when there is no batching window', () => {
    // Prepare
    const settings = { ...roomy, eventSource: { ...roomy.eventSource, maxBatchingWindowSeconds: 0 } };
    // Act
    const r = simulate({ ...base, settings });
    // Assess
    expect(r.lambda.meanBatchSize).toBeLessThanOrEqual(10);
  });

  it('sends what a batch could not write by its deadline back to the queue, then to the DLQ', () => {
    // Prepare: 1 s timeouts, 5 ms visibility timeouts, a table far too small for the rate
    const settings: PipelineSettings = {
      ...roomy,
      lambda: { ...roomy.lambda, timeoutSeconds: 1, deadlineMarginMs: 100 },
      queue: { visibilityTimeoutSeconds: 0.005, maxReceiveCount: 2 },
      table: { billingMode: 'PROVISIONED', warmWriteUnitsPerSec: 0, provisionedWriteUnits: 50 },
    };
    // Act
    const r = simulate({ ratePerSec: 5000, durationSeconds: 5, drainSeconds: 5, settings });
    // Assess
    const m = r.messages;
    expect(m.deadLettered).toBeGreaterThan(0);
    expect(m.written + m.rejected + m.deadLettered + m.queued + m.inFlight).toBeCloseTo(m.sent, 6);
  });

  it('refuses an input out of range, naming it', () => {
    // Act / Assess
    expect(() => simulate({ ratePerSec: -1, durationSeconds: 10 })).toThrow(InvalidSimulationError);
    expect(() => simulate({ ratePerSec: 1000, durationSeconds: 0 })).toThrow(/durationSeconds: got 0/);
    expect(() => simulate({ ratePerSec: 1000, durationSeconds: 10, stepMs: 0 })).toThrow(/stepMs/);
  });
});
