/**
 * Recommendations from a workload analysis, each with the figure that drove it: event source batch
 * and window, its concurrency or provisioned pollers, Lambda memory, WriteBatcher concurrency,
 * coalescing, sharding, warm throughput and GPU `messagesPerTask`. The rules are in the README
 * (`pipeline advise`); the constants in `limits.ts`.
 */

import type { WorkloadAnalysis } from './analyze.ts';
import { clamp, fmt, pct } from './format.ts';
import { gpuOf } from './gpu-sizing.ts';
import { adviseAssumptions as A, awsLimits as L } from './limits.ts';
import type { Driver, Recommendations, RecommendOptions } from './recommend-types.ts';
import { round } from './stats.ts';
import { coalescingOf, shardingOf, warmThroughputOf } from './table-sizing.ts';

/** Estimated heap of a batch when it is not measured: this multiple of its body bytes. */
const ESTIMATED_HEAP_PER_BODY_BYTE = 6;
const MiB = 1024 * 1024;

export function recommend(a: WorkloadAnalysis, options: RecommendOptions = {}): Recommendations {
  const writeConcurrency = writeConcurrencyOf(a, options);
  return {
    batch: batchOf(a),
    eventSource: eventSourceOf(a, writeConcurrency.value, options),
    memoryMiB: memoryOf(a, options),
    writeConcurrency,
    coalescing: coalescingOf(a),
    sharding: shardingOf(a),
    warmThroughput: warmThroughputOf(a),
    gpu: gpuOf(a, options),
  };
}

function batchOf(a: WorkloadAnalysis): Recommendations['batch'] {
  const { batchSize: fill, windowSeconds } = a.chosen;
  // Room for the peak: a poller's batch then fills to the peak's share of the window.
  const peakFill = Math.ceil(fill * a.burstiness);
  const batchSize = a.peakBatchSize;
  const capped = peakFill > batchSize;
  const driver: Driver = capped
    ? { figure: 'p99 message bytes', value: a.messageBytes.p99, unit: 'B' }
    : { figure: 'target rate', value: a.rate, unit: 'messages/s' };
  const coalescing =
    windowSeconds > 1
      ? `; a ${windowSeconds} s window coalesces ${pct(a.chosen.duplicateRatio)} of writes against ${pct(a.windows[0]!.duplicateRatio)} at 1 s`
      : '';
  const reason = capped
    ? `p99 message of ${fmt(a.messageBytes.p99)} B (+${A.sqsRecordOverheadBytes} B per record) caps a batch at ${fmt(batchSize)} under Lambda's 6 MB payload`
    : `${fmt(a.rate)} messages/s over ${A.sqsPollers} pollers fill ~${fmt(fill)} per ${windowSeconds} s window, ${fmt(peakFill)} at the peak (×${fmt(a.burstiness)})${coalescing}`;
  return { batchSize, maxBatchingWindowSeconds: windowSeconds, driver, reason };
}

/** Weighted request latency and the time one invocation takes to write a batch, ms. */
function invocationMs(a: WorkloadAnalysis, concurrency: number, options: RecommendOptions): number {
  const { batchWrite, guarded } = a.requestsPerBatch;
  const guardedMs =
    (options.versionedWrites ?? 'transaction') === 'transaction'
      ? A.transactionLatencyMs
      : A.conditionalPutLatencyMs;
  const requestMs = batchWrite * A.batchWriteLatencyMs + guarded * guardedMs;
  return A.invocationOverheadMs + requestMs / concurrency;
}

function writeConcurrencyOf(
  a: WorkloadAnalysis,
  options: RecommendOptions,
): Recommendations['writeConcurrency'] {
  const { batchWrite, guarded } = a.requestsPerBatch;
  const requestMs = invocationMs(a, 1, options) - A.invocationOverheadMs;
  const value = clamp(
    Math.ceil(requestMs / A.targetWriteMs),
    Math.max(L.writeConcurrency.min, A.minWriteConcurrency),
    L.writeConcurrency.max,
  );
  const hot =
    a.hotPartitions.length > 0
      ? '; more will not help the hot partitions, which throttle whatever the concurrency'
      : '';
  return {
    value,
    driver: {
      figure: 'DynamoDB requests per batch',
      value: round(batchWrite + guarded, 2),
      unit: 'requests',
    },
    reason: `${fmt(batchWrite)} BatchWriteItem + ${fmt(guarded)} guarded requests per batch take ~${fmt(requestMs)} ms one at a time; ${value} in flight write a batch in ~${fmt(requestMs / value)} ms (target ${A.targetWriteMs} ms)${hot}`,
  };
}

function eventSourceOf(
  a: WorkloadAnalysis,
  concurrency: number,
  options: RecommendOptions,
): Recommendations['eventSource'] {
  const durationMs = invocationMs(a, concurrency, options);
  const meanConcurrency = (a.rate / a.chosen.batchSize) * (durationMs / 1000);
  const peakConcurrency = meanConcurrency * a.burstiness;
  const needed = Math.ceil(peakConcurrency * A.concurrencyHeadroom);
  const provisioned = a.burstiness >= A.provisionedBurstiness || needed > L.eventSourceConcurrency.max;
  const basis = `${fmt(a.rate / a.chosen.batchSize)} batches/s of ~${fmt(durationMs)} ms each need ${fmt(meanConcurrency)} concurrent invocations on average, ${fmt(peakConcurrency)} at the peak (burstiness ${fmt(a.burstiness)})`;
  if (!provisioned) {
    const maxConcurrency = clamp(needed, L.eventSourceConcurrency.min, L.eventSourceConcurrency.max);
    return {
      mode: 'standard',
      maxConcurrency,
      driver: {
        figure: 'peak concurrent invocations',
        value: round(peakConcurrency, 2),
        unit: 'invocations',
      },
      reason: `${basis}; ×${A.concurrencyHeadroom} headroom`,
    };
  }
  const P = L.provisionedPollers;
  const bytesPerSec = a.rate * a.messageBytes.mean;
  const minimum = clamp(
    Math.max(
      Math.ceil(meanConcurrency / P.invocationsPerPoller),
      Math.ceil(bytesPerSec / P.bytesPerSecPerPoller),
    ),
    P.minimum.min,
    P.minimum.max,
  );
  const maximum = clamp(
    Math.max(
      minimum,
      Math.ceil(needed / P.invocationsPerPoller),
      Math.ceil((bytesPerSec * a.burstiness * A.concurrencyHeadroom) / P.bytesPerSecPerPoller),
    ),
    P.maximum.min,
    P.maximum.max,
  );
  const why =
    a.burstiness >= A.provisionedBurstiness
      ? `bursts of ${fmt(a.burstiness)}× the mean outpace standard scaling`
      : `${fmt(needed)} invocations exceed standard mode's 1,000`;
  return {
    mode: 'provisioned',
    provisionedPollers: { minimum, maximum },
    driver:
      a.burstiness >= A.provisionedBurstiness
        ? { figure: 'burstiness (peak/mean)', value: a.burstiness, unit: '×' }
        : { figure: 'peak concurrent invocations', value: round(peakConcurrency, 2), unit: 'invocations' },
    reason: `${basis}; ${why}: provisioned pollers (each up to ${P.invocationsPerPoller} invocations, 1 MB/s)`,
  };
}

function memoryOf(a: WorkloadAnalysis, options: RecommendOptions): Recommendations['memoryMiB'] {
  const batch = a.peakBatchSize;
  const sampled = a.largestBatch.length;
  const measured = options.batchHeapBytes !== undefined;
  const bodyBytes = a.largestBatch.reduce((sum, w) => sum + w.bodyBytes, 0);
  // A sample smaller than one batch is measured whole and scaled to the batch size.
  const heapBytes = ((options.batchHeapBytes ?? bodyBytes * ESTIMATED_HEAP_PER_BODY_BYTE) * batch) / sampled;
  const heapMiB = heapBytes / MiB;
  const raw = Math.ceil((A.runtimeBaselineMiB + A.heapMultiplier * heapMiB) / 64) * 64;
  const value = clamp(raw, A.minMemoryMiB, L.lambdaMemoryMiB.max);
  const how = measured
    ? 'measured through the batch writer'
    : `estimated (${ESTIMATED_HEAP_PER_BODY_BYTE}× body bytes)`;
  const scaled =
    sampled < batch
      ? ` on ${fmt(sampled)} messages, scaled to ${fmt(batch)}`
      : ` on a batch of ${fmt(batch)}`;
  return {
    value,
    measured,
    driver: {
      figure: measured ? 'peak heap per batch (measured)' : 'peak heap per batch (estimated)',
      value: round(heapMiB, 2),
      unit: 'MiB',
    },
    reason: `${fmt(heapMiB)} MiB ${how}${scaled}; ${A.runtimeBaselineMiB} MiB runtime + ${A.heapMultiplier}× heap, at least ${A.minMemoryMiB} MiB`,
  };
}
