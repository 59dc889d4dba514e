/**
 * `pipeline simulate --report <file.svg|file.html>`: the run as pictures — arrivals and completions
 * over time, backlog and concurrency, latency p50/p99 over time, the cost breakdown — with the same
 * headless Vega-Lite rendering as `pipeline advise --report`.
 */

import { fmt } from '../../pipeline/capacity/format.ts';
import { escapeHtml, type Panel, writeChartReport } from '../chart-report.ts';
import type { SimulationDocument } from './document.ts';
import { formatSimulation } from './format.ts';

const WIDTH = 560;

/** Lines over time: one per field, each as a series. */
function lines(
  title: string,
  rows: readonly Record<string, number>[],
  fields: Record<string, string>,
  y: string,
): Panel {
  return {
    title,
    data: {
      values: rows.flatMap((r) =>
        Object.entries(fields).map(([field, series]) => ({ t: r.t, value: r[field], series })),
      ),
    },
    width: WIDTH,
    height: 150,
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds' },
      y: { field: 'value', type: 'quantitative', title: y },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
    },
  };
}

export function simulationPanels(doc: SimulationDocument): Panel[] {
  const points = doc.result.series.map((p) => ({ ...p }) as unknown as Record<string, number>);
  const c = doc.result.cost;
  const costs = [
    { part: 'Lambda compute', usd: c.lambdaCompute },
    { part: 'Lambda requests', usd: c.lambdaRequests },
    { part: 'DynamoDB writes', usd: c.dynamodbWrites },
    { part: 'SQS requests', usd: c.sqsRequests },
    { part: 'GPU instances', usd: c.gpuInstances },
  ];
  return [
    lines(
      'Rate over time: messages/s arriving and handled',
      points,
      { arrivalsPerSec: 'arriving', completedPerSec: 'handled' },
      'messages/s',
    ),
    lines('Backlog: messages queued, gathered or in flight', points, { backlog: 'backlog' }, 'messages'),
    lines('Latency of the messages handled in each interval', points, { p50Ms: 'p50', p99Ms: 'p99' }, 'ms'),
    lines(
      'Lambda concurrency: invocations running',
      points,
      { concurrency: 'concurrent invocations' },
      'invocations',
    ),
    {
      title: `Cost of the run at list prices: $${c.total.toFixed(4)} in all`,
      data: { values: costs },
      width: WIDTH,
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'part', type: 'nominal', sort: null, title: null },
        x: { field: 'usd', type: 'quantitative', title: 'USD' },
      },
    },
  ];
}

/** Writes the report; the file's extension picks the format. */
export function writeSimulationReport(path: string, doc: SimulationDocument): Promise<void> {
  const title = `pipeline simulate: ${doc.source.name} at ${fmt(doc.ratePerSec)} messages/s for ${fmt(doc.durationSeconds)} s`;
  return writeChartReport(path, {
    title,
    panels: simulationPanels(doc),
    page: (charts) =>
      [
        '<!doctype html>',
        `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>`,
        '<style>body{font-family:sans-serif;margin:2em;max-width:70em}pre{background:#f6f6f6;padding:1em}</style>',
        `</head><body><h1>${escapeHtml(title)}</h1>`,
        `<h2>Result</h2><pre>${escapeHtml(formatSimulation(doc))}</pre>`,
        '<h2>Figures</h2>',
        ...charts.map((svg) => `<figure>${svg}</figure>`),
        '</body></html>',
      ].join('\n'),
  });
}
