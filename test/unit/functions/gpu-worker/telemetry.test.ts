import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AdaptiveBatchLimit } from '../../../../functions/gpu-worker/batch-limit.ts';
import { startGpuMonitor } from '../../../../functions/gpu-worker/gpu-monitor.ts';
import {
  isThrottled,
  LEGACY_QUERY_FIELDS,
  NvidiaSmiSampler,
  parseNvidiaSmi,
  QUERY_FIELDS,
} from '../../../../functions/gpu-worker/telemetry.ts';
import { silentLogger, until } from '../../../support/fakes/inference.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parseNvidiaSmi', () => {
  it('reads utilisation, memory, temperature, power and clocks of a busy, unthrottled GPU', () => {
    // Act
    const [gpu] = parseNvidiaSmi(fixture('nvidia-smi-a10g-busy.csv'));
    // Assess
    expect(gpu).toEqual({
      index: 0,
      name: 'NVIDIA A10G',
      utilizationPercent: 87,
      memoryUsedMiB: 20340,
      memoryTotalMiB: 23028,
      temperatureC: 74,
      powerDrawW: 201.53,
      smClockMHz: 1710,
      clockEventReasons: 0n,
      thermalThrottled: false,
      powerThrottled: false,
    });
  });

  it('flags thermal slowdown from the clock event reasons bitmask', () => {
    // Act
    const samples = parseNvidiaSmi(fixture('nvidia-smi-a10g-thermal.csv'));
    // Assess
    expect(samples[0]).toMatchObject({
      thermalThrottled: true,
      powerThrottled: false,
      clockEventReasons: 0x60n,
    });
    expect(isThrottled(samples)).toBe(true);
  });

  it('reads one sample per GPU, flags a power cap, and leaves unreported values undefined', () => {
    // Act
    const samples = parseNvidiaSmi(fixture('nvidia-smi-t4-power-cap.csv'));
    // Assess
    expect(samples.map((s) => [s.index, s.powerThrottled, s.thermalThrottled])).toEqual([
      [0, true, false],
      [1, false, false],
    ]);
    expect(samples[1]?.powerDrawW).toBeUndefined();
    expect(isThrottled(samples)).toBe(true);
  });

  it('does not count an idle GPU as throttled', () => {
    // Act
    const samples = parseNvidiaSmi('0, Tesla T4, 0, 0, 15360, 38, 9.5, 300, 0x0000000000000001\n');
    // Assess
    expect(isThrottled(samples)).toBe(false);
  });

  it('rejects a line with missing fields, naming it', () => {
    // Act & Assess
    expect(() => parseNvidiaSmi('0, NVIDIA A10G, 87\n')).toThrow(/3 fields, expected 9/);
  });
});

describe('NvidiaSmiSampler', () => {
  it('switches itself off, without an error, when nvidia-smi is absent', async () => {
    // Prepare
    const sampler = new NvidiaSmiSampler(async () => {
      throw Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
    });
    // Act
    const first = await sampler.sample();
    const second = await sampler.sample();
    // Assess
    expect(first).toBeUndefined();
    expect(second).toBeUndefined();
    expect(sampler.status).toEqual({ enabled: false, reason: 'nvidia-smi not available (ENOENT)' });
  });

  it('falls back to the deprecated field name on a driver that does not know the current one', async () => {
    // Prepare
    const asked: string[] = [];
    const sampler = new NvidiaSmiSampler(async (_file, args) => {
      asked.push(args[0]!);
      if (args[0]!.includes('clocks_event_reasons')) {
        throw Object.assign(new Error('exit 2'), {
          stdout: 'Field "clocks_event_reasons.active" is not a valid field to query.',
        });
      }
      return fixture('nvidia-smi-a10g-busy.csv');
    });
    // Act
    const samples = await sampler.sample();
    // Assess
    expect(samples?.[0]?.temperatureC).toBe(74);
    expect(asked).toEqual([
      `--query-gpu=${QUERY_FIELDS.join(',')}`,
      `--query-gpu=${LEGACY_QUERY_FIELDS.join(',')}`,
    ]);
  });
});

describe('startGpuMonitor', () => {
  it('lowers the batch limit while the GPU reports throttling and publishes one metric blob per GPU', async () => {
    // Prepare
    const outputs = [fixture('nvidia-smi-a10g-thermal.csv'), fixture('nvidia-smi-a10g-thermal.csv')];
    const sampler = new NvidiaSmiSampler(async () => outputs.shift() ?? fixture('nvidia-smi-a10g-busy.csv'));
    const batchLimit = new AdaptiveBatchLimit({ max: 32 });
    const published: Record<string, number>[] = [];
    let stored: Record<string, number> = {};
    const metrics = {
      addDimension: () => undefined,
      addMetric: (name: string, _unit: string, value: number) => {
        stored[name] = value;
      },
      hasStoredMetrics: () => Object.keys(stored).length > 0,
      publishStoredMetrics: () => {
        published.push(stored);
        stored = {};
      },
    };
    // Act
    const monitor = startGpuMonitor({
      sampler,
      batchLimit,
      intervalMs: 1,
      logger: silentLogger,
      metrics: metrics as unknown as Parameters<typeof startGpuMonitor>[0]['metrics'],
    });
    await until(() => published.length >= 2);
    const throttledLimit = batchLimit.current();
    await monitor.stop();
    // Assess
    expect(throttledLimit).toBe(8);
    expect(published[0]).toMatchObject({
      GpuTemperature: 89,
      GpuThermalThrottled: 1,
      GpuUtilization: 100,
      BatchLimit: 16,
    });
  });

  it('stops sampling on a host without nvidia-smi', async () => {
    // Prepare
    let calls = 0;
    const sampler = new NvidiaSmiSampler(async () => {
      calls++;
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    });
    // Act
    const monitor = startGpuMonitor({
      sampler,
      batchLimit: new AdaptiveBatchLimit({ max: 4 }),
      intervalMs: 1,
      logger: silentLogger,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await monitor.stop();
    // Assess
    expect(calls).toBe(1);
  });
});
