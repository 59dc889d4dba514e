import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Chart, chartsFor, renderSvg, writeCharts } from '../../bench/charts.ts';

const AT = '2026-12-04T03:00:11.326Z';

const writePath = {
  suite: 'write-path',
  at: AT,
  strategies: {
    putItemSequential: { itemsPerSec: 537, cpuMicrosPerWrite: 838, runs: 1 },
    writeBatcher: { itemsPerSec: 4488, cpuMicrosPerWrite: 55.9, runs: 3 },
    dynamoDbToolbox: { itemsPerSec: 5694, cpuMicrosPerWrite: 60.6, runs: 3 },
  },
};

const throttling = {
  at: AT,
  allowedWriteUnitsPerSecond: 1500,
  strategies: {
    adaptive: { steady: { ofAllowedRate: 0.975, throttledFraction: 0.025 } },
    fixed32: { steady: { ofAllowedRate: 0.956, throttledFraction: 0.796 } },
  },
};

const gpuWorker = {
  at: AT,
  device: 'cpu',
  config: { maxBatch: 32 },
  latencyMs: { p50: 229, p99: 413, max: 416, arrivalRatePerSec: 393 },
  byModel: {
    'hidden-4096': {
      jobsPerSec: { batch1: 181, batched: 785 },
      speedup: 4.34,
      workerWithoutTableSpeedup: 4.33,
      inferenceOnlySpeedup: 7.15,
    },
  },
};

function chart(charts: Chart[], name: string): Chart {
  const found = charts.find((c) => c.name === name);
  if (!found) throw new Error(`no chart ${name} in ${charts.map((c) => c.name).join(', ')}`);
  return found;
}

/** The data rows of a spec, or of each panel of a concatenated one. */
function rowsOf(spec: unknown): unknown[] {
  const s = spec as { data?: { values: unknown[] }; hconcat?: unknown[] };
  return s.hconcat ? s.hconcat.map(rowsOf) : (s.data?.values ?? []);
}

describe('bench charts', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('charts items/s per write-path strategy with the WriteBatcher in a series of its own', () => {
    // Act
    const { spec } = chart(chartsFor('write-path', writePath), 'throughput');
    // Assess
    expect(rowsOf(spec)).toEqual([
      { label: 'putItemSequential', value: 537, series: 'raw SDK calls' },
      { label: 'writeBatcher', value: 4488, series: 'WriteBatcher' },
      { label: 'dynamoDbToolbox', value: 5694, series: 'peer libraries' },
    ]);
  });

  it('renders a chart to an SVG document that names every strategy and highlights the WriteBatcher', async () => {
    // Prepare
    const { spec } = chart(chartsFor('write-path', writePath), 'throughput');
    // Act
    const svg = await renderSvg(spec);
    // Assess
    expect(svg.startsWith('<svg')).toBe(true);
    for (const name of Object.keys(writePath.strategies)) expect(svg).toContain(`>${name}</text>`);
    expect(svg).toContain('fill="#e45756"');
  });

  it('charts the achieved rate and the throttled share of each throttling strategy side by side', async () => {
    // Act
    const { spec } = chart(chartsFor('throttling', throttling), 'rates');
    // Assess
    expect(rowsOf(spec)).toEqual([
      [
        { label: 'adaptive', value: 0.975, series: 'adaptive' },
        { label: 'fixed32', value: 0.956, series: 'fixed32' },
      ],
      [
        { label: 'adaptive', value: 0.025, series: 'adaptive' },
        { label: 'fixed32', value: 0.796, series: 'fixed32' },
      ],
    ]);
    expect(await renderSvg(spec)).toContain('>fixed32</text>');
  });

  it('charts the GPU worker speed-up per model and stage, its jobs/s and its latency percentiles', () => {
    // Act
    const charts = chartsFor('gpu-worker', gpuWorker);
    // Assess
    expect(rowsOf(chart(charts, 'speedup').spec)).toEqual([
      { label: 'hidden-4096', value: 4.34, series: 'end to end' },
      { label: 'hidden-4096', value: 4.33, series: 'worker, job records left out' },
      { label: 'hidden-4096', value: 7.15, series: 'inference call alone' },
    ]);
    expect(rowsOf(chart(charts, 'throughput').spec)).toEqual([
      { label: 'hidden-4096', value: 181, series: 'batch 1' },
      { label: 'hidden-4096', value: 785, series: 'batched (max 32)' },
    ]);
    expect(rowsOf(chart(charts, 'latency').spec)).toEqual([
      { label: 'p50', value: 229 },
      { label: 'p99', value: 413 },
      { label: 'max', value: 416 },
    ]);
  });

  it('draws nothing for a suite without charts', () => {
    expect(chartsFor('no-such-suite', {})).toEqual([]);
  });

  it('rejects a result that lacks a field a chart reads, naming the field', () => {
    // Prepare
    const { cpuMicrosPerWrite: _dropped, ...withoutCpu } = writePath.strategies.writeBatcher;
    const result = { ...writePath, strategies: { ...writePath.strategies, writeBatcher: withoutCpu } };
    // Act / Assess
    expect(() => chartsFor('write-path', result)).toThrow(/cpuMicrosPerWrite/);
  });

  it('writes one <suite>-<chart>.svg per chart into the folder given', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'bench-charts-'));
    // Act
    const files = await writeCharts('write-path', writePath, dir);
    // Assess
    expect(files).toEqual([join(dir, 'write-path-throughput.svg'), join(dir, 'write-path-cpu.svg')]);
    expect((await readdir(dir)).sort()).toEqual(['write-path-cpu.svg', 'write-path-throughput.svg']);
    expect(await readFile(files[1]!, 'utf8')).toMatch(/^<svg[^>]*>.*>writeBatcher<\/text>.*<\/svg>\n$/s);
  });
});
