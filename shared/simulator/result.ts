/** What a run answers: throughput, latency, backlog, throttling, cost; and the arithmetic of its costs. */

import { type GpuResult, simulateGpu } from './gpu.ts';
import type { LatencyHistogram } from './histogram.ts';
import type { ResolvedRun } from './input.ts';
import { listPrices } from './pricing.ts';
import type { SeriesPoint } from './series.ts';
import type { PipelineSettings, ServiceTimes } from './settings.ts';

export type { SimulationInput } from './input.ts';

/** Running totals of a run (messages may be fractional where a batch splits by share). */
export interface Counters {
  sent: number;
  written: number;
  rejected: number;
  deadLettered: number;
  invocations: number;
  coldStarts: number;
  billedMs: number;
  writeRequests: number;
  throttledRequests: number;
  unitsWritten: number;
  firstArrival: number;
  lastCompletion: number;
  peakBacklog: number;
  peakConcurrency: number;
}

export interface CostBreakdown {
  readonly lambdaCompute: number;
  readonly lambdaRequests: number;
  readonly dynamodbWrites: number;
  readonly sqsRequests: number;
  readonly gpuInstances: number;
  readonly total: number;
}

export interface SimulationResult {
  readonly seed: number;
  readonly simulatedSeconds: number;
  readonly messages: {
    readonly sent: number;
    /** Written (or coalesced into a later write of the same item). */
    readonly written: number;
    /** Dead-lettered by the batch writer at once (invalid). */
    readonly rejected: number;
    /** Moved to the DLQ after maxReceiveCount failed receives. */
    readonly deadLettered: number;
    /** Still in the queue (visible or waiting out a visibility timeout) at the end. */
    readonly queued: number;
    /** In a batch being gathered or an invocation still running at the end. */
    readonly inFlight: number;
  };
  /** Messages handled per second, from the first arrival to the last completion. */
  readonly throughputPerSec: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
  };
  readonly peakBacklog: number;
  readonly peakConcurrency: number;
  readonly lambda: {
    readonly invocations: number;
    readonly coldStarts: number;
    readonly gbSeconds: number;
    readonly meanBatchSize: number;
  };
  readonly dynamodb: {
    readonly writeUnits: number;
    readonly meanWriteUnitsPerSec: number;
    readonly writeRequests: number;
    readonly throttledRequests: number;
  };
  readonly gpu?: GpuResult;
  readonly cost: CostBreakdown;
  readonly settings: PipelineSettings;
  readonly service: ServiceTimes;
  readonly series: readonly SeriesPoint[];
}

/** Lambda's bill for `invocations` invocations of `billedMs` in all, at `memoryMiB`. */
export function lambdaCost(
  invocations: number,
  billedMs: number,
  memoryMiB: number,
  architecture: 'arm64' | 'x86_64',
): { gbSeconds: number; compute: number; requests: number } {
  const gbSeconds = (billedMs / 1000) * (memoryMiB / 1024);
  return {
    gbSeconds,
    compute: gbSeconds * listPrices.lambda.gbSecond[architecture],
    requests: invocations * listPrices.lambda.request,
  };
}

export function summarize(
  run: ResolvedRun,
  c: Counters,
  end: { queued: number; inFlight: number; latency: LatencyHistogram; series: SeriesPoint[] },
): SimulationResult {
  const { settings } = run;
  const simulatedSeconds = Math.max(
    end.series.length > 0 ? c.lastCompletion / 1000 : 0,
    run.arrivalEndMs / 1000,
  );
  const handled = c.written + c.rejected;
  const span = (c.lastCompletion - (Number.isNaN(c.firstArrival) ? 0 : c.firstArrival)) / 1000;
  const lambda = lambdaCost(
    c.invocations,
    c.billedMs,
    settings.lambda.memoryMiB,
    settings.lambda.architecture,
  );
  const gpu =
    run.gpu && settings.gpu ? simulateGpu(settings.gpu, run.gpu, Math.ceil(run.endMs / 1000)) : undefined;
  const hourly = settings.gpu
    ? (listPrices.ec2.instanceHour[settings.gpu.instanceType] ?? listPrices.ec2.unknownInstanceHour)
    : 0;
  const writes =
    settings.table.billingMode === 'PROVISIONED'
      ? ((settings.table.provisionedWriteUnits ?? 0) *
          simulatedSeconds *
          listPrices.dynamodb.provisionedWcuHour) /
        3600
      : c.unitsWritten * listPrices.dynamodb.writeRequestUnit;
  // Producer SendMessageBatch, event-source receives and deletes, 10 messages a request each.
  const sqsRequests = ((c.sent + handled) / 10 + c.sent / 10) * listPrices.sqs.request;
  const cost = {
    lambdaCompute: lambda.compute,
    lambdaRequests: lambda.requests,
    dynamodbWrites: writes,
    sqsRequests,
    gpuInstances: (gpu?.instanceHours ?? 0) * hourly,
  };
  return {
    seed: run.seed,
    simulatedSeconds,
    messages: {
      sent: c.sent,
      written: c.written,
      rejected: c.rejected,
      deadLettered: c.deadLettered,
      queued: end.queued,
      inFlight: end.inFlight,
    },
    throughputPerSec: span > 0 ? handled / span : 0,
    latencyMs: {
      p50: end.latency.quantile(0.5),
      p99: end.latency.quantile(0.99),
      max: end.latency.maxMs,
      mean: end.latency.meanMs,
    },
    peakBacklog: c.peakBacklog,
    peakConcurrency: c.peakConcurrency,
    lambda: {
      invocations: c.invocations,
      coldStarts: c.coldStarts,
      gbSeconds: lambda.gbSeconds,
      meanBatchSize: c.invocations === 0 ? 0 : (c.written + c.rejected + c.deadLettered) / c.invocations,
    },
    dynamodb: {
      writeUnits: c.unitsWritten,
      meanWriteUnitsPerSec: simulatedSeconds > 0 ? c.unitsWritten / simulatedSeconds : 0,
      writeRequests: c.writeRequests,
      throttledRequests: c.throttledRequests,
    },
    ...(gpu ? { gpu } : {}),
    cost: { ...cost, total: Object.values(cost).reduce((s, v) => s + v, 0) },
    settings,
    service: run.service,
    series: end.series,
  };
}
