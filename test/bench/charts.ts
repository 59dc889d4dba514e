/**
 * Benchmark charts: each suite's result (test/bench/results/<suite>.json) as Vega-Lite specs, rendered
 * to SVG by vega's headless view (`renderer: 'none'` + `toSVG()`: no browser, no canvas, no fonts;
 * text stays <text>). `npm run bench` renders a suite's charts after writing its JSON;
 * `npm run bench:charts` renders every chart from the JSON files already there.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { z } from 'zod';

export const RESULTS_DIR = 'test/bench/results';

/** One chart of a suite, written as `<suite>-<name>.svg`. */
export interface Chart {
  readonly name: string;
  readonly spec: TopLevelSpec;
}

// The parts of each suite's result the charts read; other fields are ignored.
const WritePathResultSchema = z.object({
  at: z.string(),
  strategies: z.record(z.string(), z.object({ itemsPerSec: z.number(), cpuMicrosPerWrite: z.number() })),
});
const rates = z.object({ ofAllowedRate: z.number(), throttledFraction: z.number() });
const ThrottlingResultSchema = z.object({
  at: z.string(),
  allowedWriteUnitsPerSecond: z.number(),
  strategies: z.record(z.string(), z.object({ steady: rates })),
});
const batch1VsBatched = z.object({ batch1: z.number(), batched: z.number() });
const GpuWorkerResultSchema = z.object({
  at: z.string(),
  device: z.string(),
  config: z.object({ maxBatch: z.number() }),
  latencyMs: z.object({ p50: z.number(), p99: z.number(), max: z.number(), arrivalRatePerSec: z.number() }),
  byModel: z.record(
    z.string(),
    z.object({
      jobsPerSec: batch1VsBatched,
      speedup: z.number(),
      workerWithoutTableSpeedup: z.number(),
      inferenceOnlySpeedup: z.number(),
    }),
  ),
});
const ProducerResultSchema = z.object({
  at: z.string(),
  rounds: z.object({ producer: z.array(z.number()), sendMessageOneByOne: z.array(z.number()) }),
  lowRatePutLatencyMs: z.object({ p50: z.number(), p95: z.number(), messages: z.number() }),
});
const SnapshotsResultSchema = z.object({
  at: z.string(),
  documents: z.array(z.object({ size: z.string(), publishMs: z.number(), coldLoadMs: z.number() })),
  coldLoadPhasesMs: z.object({ size: z.string() }).catchall(z.number()),
});

/** Plot width in px; heights follow from the number of bars. */
const WIDTH = 460;
const HIGHLIGHT = '#e45756';
const BLUE = '#4c78a8';
/** Where a write-path strategy comes from, for the colours: the WriteBatcher stands out. */
const WRITE_PATH_KINDS = { WriteBatcher: HIGHLIGHT, 'raw SDK calls': '#9ecae9', 'peer libraries': BLUE };
const RAW_SDK = /^(putItem|batchWriteRaw)/;

/** The charts of one suite's result; none for a suite without any. */
export function chartsFor(suite: string, result: unknown): Chart[] {
  switch (suite) {
    case 'write-path':
      return writePathCharts(WritePathResultSchema.parse(result));
    case 'throttling':
      return throttlingCharts(ThrottlingResultSchema.parse(result));
    case 'gpu-worker':
      return gpuWorkerCharts(GpuWorkerResultSchema.parse(result));
    case 'producer':
      return producerCharts(ProducerResultSchema.parse(result));
    case 'snapshots':
      return snapshotsCharts(SnapshotsResultSchema.parse(result));
    default:
      return [];
  }
}

function writePathCharts(result: z.infer<typeof WritePathResultSchema>): Chart[] {
  const strategies = Object.entries(result.strategies).map(([name, s]) => ({
    name,
    ...s,
    kind: kindOf(name),
  }));
  const subtitle = source('write-path', result.at);
  return [
    {
      name: 'throughput',
      spec: bars({
        title: 'Write path: items/s per strategy (higher is better)',
        subtitle,
        rows: strategies.map((s) => ({ label: s.name, value: s.itemsPerSec, series: s.kind })),
        valueTitle: 'items/s',
        format: ',.0f',
        colors: WRITE_PATH_KINDS,
      }),
    },
    {
      name: 'cpu',
      spec: bars({
        title: 'Write path: client CPU µs per write (lower is better)',
        subtitle,
        rows: strategies.map((s) => ({ label: s.name, value: s.cpuMicrosPerWrite, series: s.kind })),
        valueTitle: 'client CPU µs per write',
        format: ',.1f',
        colors: WRITE_PATH_KINDS,
      }),
    },
  ];
}

function throttlingCharts(result: z.infer<typeof ThrottlingResultSchema>): Chart[] {
  const strategies = Object.entries(result.strategies);
  // Panels of one figure: the figure carries the schema and the config.
  const panel = (title: string, pick: (r: z.infer<typeof rates>) => number, target: Target) => {
    const { $schema, config, ...body } = bars({
      title,
      rows: strategies.map(([name, s]) => ({ label: name, value: pick(s.steady), series: name })),
      valueTitle: 'share (steady state)',
      format: '.1%',
      target,
      width: WIDTH / 2 + 60,
      colors: highlightAdaptive(strategies.map(([name]) => name)),
    });
    return body;
  };
  return [
    {
      name: 'rates',
      spec: {
        ...topLevel(
          `Throttling at ${result.allowedWriteUnitsPerSecond.toLocaleString('en-US')} WCU/s: achieved rate and throttled requests`,
          source('throttling', result.at),
        ),
        hconcat: [
          panel('achieved / allowed (higher is better)', (r) => r.ofAllowedRate, {
            value: 0.9,
            label: 'target ≥ 90 %',
          }),
          panel('throttled requests (lower is better)', (r) => r.throttledFraction, {
            value: 0.05,
            label: 'target ≤ 5 %',
          }),
        ],
      } as TopLevelSpec,
    },
  ];
}

function gpuWorkerCharts(result: z.infer<typeof GpuWorkerResultSchema>): Chart[] {
  const models = Object.entries(result.byModel);
  const subtitle = `${source('gpu-worker', result.at)}; device: ${result.device}`;
  const batched = `batched (max ${result.config.maxBatch})`;
  return [
    {
      name: 'speedup',
      spec: bars({
        title: 'GPU worker: speed-up of micro-batching over batch size 1, per model and stage',
        subtitle,
        rows: models.flatMap(([model, m]) => [
          { label: model, value: m.speedup, series: 'end to end' },
          { label: model, value: m.workerWithoutTableSpeedup, series: 'worker, job records left out' },
          { label: model, value: m.inferenceOnlySpeedup, series: 'inference call alone' },
        ]),
        valueTitle: `speed-up, ${batched} vs batch 1`,
        format: '.2f',
        grouped: true,
        target: { value: 3, label: 'target 3×' },
      }),
    },
    {
      name: 'throughput',
      spec: bars({
        title: 'GPU worker: jobs/s end to end, batch size 1 vs batched',
        subtitle,
        rows: models.flatMap(([model, m]) => [
          { label: model, value: m.jobsPerSec.batch1, series: 'batch 1' },
          { label: model, value: m.jobsPerSec.batched, series: batched },
        ]),
        valueTitle: 'jobs/s',
        format: ',.0f',
        grouped: true,
      }),
    },
    {
      name: 'latency',
      spec: bars({
        title: `GPU worker: job latency (enqueue → DONE) at ${result.latencyMs.arrivalRatePerSec} jobs/s`,
        subtitle,
        rows: (['p50', 'p99', 'max'] as const).map((p) => ({ label: p, value: result.latencyMs[p] })),
        valueTitle: 'ms',
        format: ',.0f',
        sort: false,
      }),
    },
  ];
}

function producerCharts(result: z.infer<typeof ProducerResultSchema>): Chart[] {
  const subtitle = source('producer', result.at);
  const rounds = Object.entries(result.rounds).flatMap(([strategy, values]) =>
    values.map((value) => ({ label: strategy, value })),
  );
  const median = { aggregate: 'median', field: 'value', type: 'quantitative', title: 'messages/s' };
  const { p50, p95, messages } = result.lowRatePutLatencyMs;
  return [
    {
      name: 'throughput',
      spec: {
        ...topLevel('Producer: messages/s per strategy, median bar and each round', subtitle),
        data: { values: rounds },
        width: WIDTH,
        encoding: { y: { field: 'label', type: 'nominal', title: null, sort: labelOrder(rounds, true) } },
        layer: [
          { mark: { type: 'bar', color: '#9ecae9' }, encoding: { x: median } },
          {
            mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
            encoding: { x: median, text: { aggregate: 'median', field: 'value', format: ',.0f' } },
          },
          {
            mark: { type: 'tick', color: '#222', thickness: 2 },
            encoding: { x: { field: 'value', type: 'quantitative' } },
          },
        ],
      } as TopLevelSpec,
    },
    {
      name: 'latency',
      spec: bars({
        title: `Producer: put() latency at a low rate (${messages} messages)`,
        subtitle,
        rows: [
          { label: 'p50', value: p50 },
          { label: 'p95', value: p95 },
        ],
        valueTitle: 'ms',
        format: '.1f',
        sort: false,
      }),
    },
  ];
}

function snapshotsCharts(result: z.infer<typeof SnapshotsResultSchema>): Chart[] {
  const subtitle = source('snapshots', result.at);
  const { size, ...phases } = result.coldLoadPhasesMs;
  return [
    {
      name: 'documents',
      spec: bars({
        title: 'Config snapshots: publish and cold load per document',
        subtitle,
        rows: result.documents.flatMap((d) => [
          { label: d.size, value: d.publishMs, series: 'publish' },
          { label: d.size, value: d.coldLoadMs, series: 'cold load' },
        ]),
        valueTitle: 'ms',
        format: ',.0f',
        grouped: true,
        sort: false,
      }),
    },
    {
      name: 'cold-load-phases',
      spec: bars({
        title: `Config snapshots: where a ${size} cold load spends its time`,
        subtitle,
        rows: Object.entries(phases).map(([phase, ms]) => ({
          label: size,
          value: ms,
          series: `${phase} ${Math.round(ms).toLocaleString('en-US')} ms`,
        })),
        valueTitle: 'ms',
        format: ',.0f',
        stacked: true,
        sort: false,
      }),
    },
  ];
}

/** Renders a Vega-Lite spec to an SVG document, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a suite's charts next to its JSON; returns the files written. */
export async function writeCharts(suite: string, result: unknown, dir = RESULTS_DIR): Promise<string[]> {
  const files: string[] = [];
  for (const chart of chartsFor(suite, result)) {
    const file = join(dir, `${suite}-${chart.name}.svg`);
    await writeFile(file, `${await renderSvg(chart.spec)}\n`);
    files.push(file);
  }
  return files;
}

type Row = { readonly label: string; readonly value: number; readonly series?: string };
type Target = { readonly value: number; readonly label: string };

interface BarsOptions {
  readonly title: string;
  readonly subtitle?: string;
  readonly rows: readonly Row[];
  readonly valueTitle: string;
  /** d3-format of the value labels and axis. */
  readonly format: string;
  /** Bars of one label side by side, one per series (else one bar per label, coloured by series). */
  readonly grouped?: boolean;
  /** Series stacked into one bar per label. */
  readonly stacked?: boolean;
  /** Longest bar first. @default true */
  readonly sort?: boolean;
  /** Plot width in px. @default WIDTH */
  readonly width?: number;
  /** A dashed vertical rule at a target value, named in the axis title. */
  readonly target?: Target;
  /** Series → colour, in legend order (else the default scheme). */
  readonly colors?: Readonly<Record<string, string>>;
}

/** Horizontal bars with their values written at their ends: the one chart shape every suite uses. */
function bars(o: BarsOptions): TopLevelSpec {
  const x = {
    field: 'value',
    type: 'quantitative',
    title: o.target ? `${o.valueTitle} (dashed line: ${o.target.label})` : o.valueTitle,
    axis: { format: o.format },
    ...(o.stacked ? {} : { stack: null }),
  };
  // On the bars and their labels only: a target rule without a y encoding spans the whole plot.
  const byLabel = {
    y: { field: 'label', type: 'nominal', title: null, sort: labelOrder(o.rows, o.sort ?? true) },
    ...(o.grouped ? { yOffset: { field: 'series', sort: null } } : {}),
  };
  const order = o.stacked ? { order: { field: 'order' } } : {};
  const layer: unknown[] = [{ mark: 'bar', encoding: { ...byLabel, x, color: colorOf(o), ...order } }];
  if (!o.stacked)
    layer.push({
      mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
      encoding: { ...byLabel, x, text: { field: 'value', format: o.format } },
    });
  if (o.target)
    layer.push({
      data: { values: [o.target] },
      mark: { type: 'rule', strokeDash: [4, 3], color: '#333' },
      encoding: { x: { field: 'value', type: 'quantitative' } },
    });
  return {
    ...topLevel(o.title, o.subtitle),
    data: { values: o.rows },
    // Stacked segments in the rows' order, not the series names'.
    ...(o.stacked ? { transform: [{ window: [{ op: 'row_number', as: 'order' }] }] } : {}),
    width: o.width ?? WIDTH,
    layer,
  } as TopLevelSpec;
}

/** The labels top to bottom: largest value first when sorted, else as the rows list them. */
function labelOrder(rows: readonly Row[], sorted: boolean): string[] {
  const largest = new Map<string, number>();
  for (const r of rows) largest.set(r.label, Math.max(largest.get(r.label) ?? -Infinity, r.value));
  const labels = [...largest.keys()];
  return sorted ? labels.sort((p, q) => largest.get(q)! - largest.get(p)!) : labels;
}

function colorOf(o: BarsOptions) {
  if (o.colors)
    return {
      field: 'series',
      type: 'nominal',
      title: null,
      scale: { domain: Object.keys(o.colors), range: Object.values(o.colors) },
    };
  if (o.rows.some((r) => r.series !== undefined))
    return { field: 'series', type: 'nominal', title: null, sort: null };
  return { value: BLUE };
}

function topLevel(title: string, subtitle?: string) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: subtitle === undefined ? title : { text: title, subtitle },
    config: {
      font: 'sans-serif',
      axis: { labelLimit: 280 },
      legend: { orient: 'bottom', labelLimit: 320 },
      view: { stroke: null },
    },
  } as const;
}

function source(suite: string, at: string): string {
  return `test/bench/results/${suite}.json, ${at.slice(0, 10)}`;
}

function kindOf(strategy: string): keyof typeof WRITE_PATH_KINDS {
  if (strategy === 'writeBatcher') return 'WriteBatcher';
  return RAW_SDK.test(strategy) ? 'raw SDK calls' : 'peer libraries';
}

/** The adaptive strategy in the highlight colour, the fixed ones in blues. */
function highlightAdaptive(names: readonly string[]): Record<string, string> {
  const others = ['#9ecae9', BLUE, '#72b7b2', '#bab0ac'];
  let next = 0;
  return Object.fromEntries(
    names.map((n) => [n, n === 'adaptive' ? HIGHLIGHT : others[next++ % others.length]!]),
  );
}

/** Renders the charts of every suite whose JSON is in the results folder. */
async function main(): Promise<void> {
  const suites = (await readdir(RESULTS_DIR))
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'));
  for (const suite of suites.sort()) {
    const result: unknown = JSON.parse(await readFile(`${RESULTS_DIR}/${suite}.json`, 'utf8'));
    for (const file of await writeCharts(suite, result)) process.stdout.write(`wrote ${file}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
