import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GPU_DIMENSION, GPU_TELEMETRY_METRICS } from '../../shared/pipeline/inference/metric-names.ts';
import type { AdaptiveBatchLimit } from './batch-limit.ts';
import { type GpuSample, isThrottled, type NvidiaSmiSampler } from './telemetry.ts';
import type { WorkerLogger } from './worker.ts';

export interface GpuMonitorOptions {
  readonly sampler: NvidiaSmiSampler;
  readonly batchLimit: AdaptiveBatchLimit;
  readonly intervalMs: number;
  readonly logger: WorkerLogger;
  /** A Metrics instance of its own: every sample is published as one EMF blob per GPU. */
  readonly metrics?: Pick<
    Metrics,
    'addDimension' | 'addMetric' | 'hasStoredMetrics' | 'publishStoredMetrics'
  >;
}

export interface GpuMonitor {
  /** Resolves when sampling has stopped. */
  stop(): Promise<void>;
}

/**
 * Samples the GPU every `intervalMs`: publishes the readings as EMF metrics (one blob per GPU,
 * dimension `gpu`), and feeds throttling into the batch limit so a hot or power-capped GPU gets
 * smaller batches until it recovers. Without `nvidia-smi` it logs once and stops itself.
 */
export function startGpuMonitor(options: GpuMonitorOptions): GpuMonitor {
  const { sampler, batchLimit, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let throttled = false;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    let samples: GpuSample[] | undefined;
    try {
      samples = await sampler.sample();
    } catch (error) {
      logger.warn('GPU telemetry sample failed', { error });
      return schedule();
    }
    if (samples === undefined) {
      const status = sampler.status;
      logger.info('GPU telemetry off', { reason: status.enabled ? 'no sample' : status.reason });
      return;
    }
    const now = isThrottled(samples);
    batchLimit.onThrottleSample(now);
    for (const sample of samples) publish(sample);
    if (now !== throttled) {
      throttled = now;
      logger.warn(now ? 'GPU throttling: lowering the batch size' : 'GPU throttling cleared', {
        batchLimit: batchLimit.current(),
        temperatureC: samples.map((s) => s.temperatureC),
      });
    }
    schedule();
  };

  const publish = (sample: GpuSample) => {
    const metric = options.metrics;
    if (!metric) return;
    metric.addDimension(GPU_DIMENSION, String(sample.index));
    const add = (
      name: string,
      unit: (typeof MetricUnit)[keyof typeof MetricUnit],
      value: number | undefined,
    ) => {
      if (value !== undefined) metric.addMetric(name, unit, value);
    };
    add(GPU_TELEMETRY_METRICS.GpuUtilization, MetricUnit.Percent, sample.utilizationPercent);
    add(GPU_TELEMETRY_METRICS.GpuMemoryUsed, MetricUnit.Megabytes, sample.memoryUsedMiB);
    add(GPU_TELEMETRY_METRICS.GpuTemperature, MetricUnit.NoUnit, sample.temperatureC);
    add(GPU_TELEMETRY_METRICS.GpuPowerDraw, MetricUnit.NoUnit, sample.powerDrawW);
    add(GPU_TELEMETRY_METRICS.GpuSmClock, MetricUnit.NoUnit, sample.smClockMHz);
    add(GPU_TELEMETRY_METRICS.GpuThermalThrottled, MetricUnit.Count, sample.thermalThrottled ? 1 : 0);
    add(GPU_TELEMETRY_METRICS.GpuPowerThrottled, MetricUnit.Count, sample.powerThrottled ? 1 : 0);
    add(GPU_TELEMETRY_METRICS.BatchLimit, MetricUnit.Count, batchLimit.current());
    if (metric.hasStoredMetrics()) metric.publishStoredMetrics();
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick();
    }, options.intervalMs);
    timer.unref();
  };

  running = tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
