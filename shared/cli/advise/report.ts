/**
 * `pipeline advise --report <file.svg|file.html>`: the advice as pictures — rate over time, the
 * hottest partitions and keys, item sizes, hot partitions against the per-partition limit — and the
 * recommendations. Vega-Lite specs rendered headless by vega (`renderer: 'none'` + `toSVG()`: no
 * browser, no canvas), as the benchmark charts are. `.svg`: every chart in one image; `.html`: one
 * page with each chart inline and the recommendations as a table.
 */

import { fmt } from '../../pipeline/capacity/format.ts';
import { escapeHtml, type Panel, writeChartReport } from '../chart-report.ts';
import type { Advice } from './advice.ts';

const WIDTH = 520;
const BLUE = '#4c78a8';
const RED = '#e45756';
const NOW = 'busiest partition now';
const ADVISED = 'busiest shard with the advised count';

/** The charts of an advice, as Vega-Lite panels (no top-level schema or config). */
export function advicePanels(advice: Advice): Panel[] {
  const panels: Panel[] = [];
  if (advice.observed) {
    const scale = advice.rate / advice.observed.meanPerSec;
    panels.push({
      title: `Rate over time: the sample's messages per second, scaled to ${fmt(advice.rate)}/s (burstiness ${fmt(advice.burstiness)})`,
      data: { values: advice.observed.perSecond.map((count, second) => ({ second, rate: count * scale })) },
      width: WIDTH,
      height: 160,
      layer: [
        {
          mark: { type: 'line', color: BLUE, interpolate: 'step-after' },
          encoding: {
            x: { field: 'second', type: 'quantitative', title: 'second of the sample' },
            y: { field: 'rate', type: 'quantitative', title: 'messages/s at the target' },
          },
        },
        {
          data: { values: [{ rate: advice.rate }] },
          mark: { type: 'rule', strokeDash: [4, 3], color: '#333' },
          encoding: { y: { field: 'rate', type: 'quantitative' } },
        },
      ],
    });
  }
  const keyRows = (label: string, top: Advice['keys']['top']) =>
    top.map((k) => ({
      label: `${k.table} ${k.partitionKey}${'sortKey' in k && k.sortKey ? ` / ${k.sortKey}` : ''}`,
      share: k.share,
      kind: label,
    }));
  panels.push(
    shareBars(
      `Hottest partition keys (${fmt(advice.partitions.distinct)} distinct, entropy ${advice.partitions.entropyBits.toFixed(2)} bits)`,
      keyRows('partition', advice.partitions.top),
    ),
    shareBars(
      `Hottest keys (${fmt(advice.keys.distinct)} distinct, entropy ${advice.keys.entropyBits.toFixed(2)} bits)`,
      keyRows('key', advice.keys.top),
    ),
  );
  panels.push({
    title: `Item sizes of the writes sent (p50 ${fmt(advice.itemBytes.p50)} B, p99 ${fmt(advice.itemBytes.p99)} B)`,
    data: {
      values: advice.itemBytesHistogram.map((b) => ({
        ...b,
        label: `${fmt(b.fromBytes)}–${fmt(b.toBytes)} B`,
      })),
    },
    width: WIDTH,
    height: 160,
    mark: { type: 'bar', color: BLUE },
    encoding: {
      x: {
        field: 'label',
        type: 'ordinal',
        sort: null,
        title: 'item bytes (1 WCU per started 1,024 B)',
        axis: { labelAngle: -40 },
      },
      y: { field: 'count', type: 'quantitative', title: 'writes' },
    },
  });
  if (advice.hotPartitions.length > 0) {
    panels.push({
      title: `Hot partitions at ${fmt(advice.rate)} messages/s: WCU/s now and per shard with the advised count (limit 1,000)`,
      data: {
        values: advice.hotPartitions.flatMap((h) => [
          {
            label: `${h.table} ${h.partitionKey}`,
            value: h.busiestShardWriteUnitsPerSec,
            series: NOW,
          },
          {
            label: `${h.table} ${h.partitionKey}`,
            value: h.shardWriteUnitsPerSec,
            series: ADVISED,
          },
        ]),
      },
      width: WIDTH,
      layer: [
        {
          mark: 'bar',
          encoding: {
            y: { field: 'label', type: 'nominal', title: null },
            yOffset: { field: 'series', sort: [NOW, ADVISED] },
            x: { field: 'value', type: 'quantitative', title: 'WCU/s', stack: null },
            color: {
              field: 'series',
              type: 'nominal',
              title: null,
              scale: { domain: [NOW, ADVISED], range: [RED, BLUE] },
              legend: { orient: 'bottom', labelLimit: 400 },
            },
          },
        },
        {
          data: { values: [{ value: 1000 }] },
          mark: { type: 'rule', strokeDash: [4, 3], color: '#333' },
          encoding: { x: { field: 'value', type: 'quantitative' } },
        },
      ],
    });
  }
  panels.push({
    title: 'Recommendations (each with the figure behind it)',
    data: { values: recommendationRows(advice).map((r, i) => ({ ...r, i })) },
    width: WIDTH,
    height: 18 * 8,
    mark: { type: 'text', align: 'left', fontSize: 11 },
    encoding: {
      y: { field: 'i', type: 'ordinal', axis: null },
      x: { value: 0 },
      text: { field: 'line' },
    },
  });
  return panels;
}

function shareBars(title: string, rows: readonly { label: string; share: number }[]): Panel {
  return {
    title,
    data: { values: rows },
    width: WIDTH,
    layer: [
      {
        mark: { type: 'bar', color: BLUE },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: null, title: null },
          x: { field: 'share', type: 'quantitative', title: 'share of writes', axis: { format: '.2~%' } },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: null },
          x: { field: 'share', type: 'quantitative' },
          text: { field: 'share', format: '.1%' },
        },
      },
    ],
  };
}

/** One line per recommendation: what, its value, the figure behind it. */
export function recommendationRows(
  advice: Advice,
): { name: string; value: string; because: string; line: string }[] {
  const r = advice.recommendations;
  const es = r.eventSource;
  const rows: [
    string,
    string,
    { driver: { figure: string; value: number; unit: string }; reason: string },
  ][] = [
    ['batch', `${fmt(r.batch.batchSize)} records, ${r.batch.maxBatchingWindowSeconds} s window`, r.batch],
    [
      'event source',
      es.mode === 'standard'
        ? `maxConcurrency ${es.maxConcurrency}`
        : `pollers ${es.provisionedPollers.minimum}..${es.provisionedPollers.maximum}`,
      es,
    ],
    ['Lambda memory', `${fmt(r.memoryMiB.value)} MiB`, r.memoryMiB],
    ['WriteBatcher concurrency', String(r.writeConcurrency.value), r.writeConcurrency],
    ['coalescing', r.coalescing.pays ? 'pays' : 'pays little', r.coalescing],
    [
      'sharding',
      r.sharding.needed
        ? advice.hotPartitions.map((h) => `${h.partitionKey}: ${h.shards} by ${h.by}`).join(', ')
        : 'not needed',
      r.sharding,
    ],
    [
      'warm throughput',
      r.warmThroughput.needed
        ? r.warmThroughput.tables.map((t) => `${fmt(t.writeUnitsPerSecond)} WCU/s`).join(', ')
        : 'not needed',
      r.warmThroughput,
    ],
    ['GPU messagesPerTask', r.gpu.computed ? String(r.gpu.messagesPerTask) : 'not computed', r.gpu],
  ];
  return rows.map(([name, value, a]) => {
    const because = `${a.driver.figure} ${fmt(a.driver.value)} ${a.driver.unit}`;
    return { name, value, because, line: `${name}: ${value}  (${because})` };
  });
}

/** Writes the report; the file's extension picks the format. */
export function writeReport(path: string, advice: Advice): Promise<void> {
  const title = `pipeline advise: ${advice.source.name} at ${fmt(advice.rate)} messages/s`;
  const panels = advicePanels(advice);
  return writeChartReport(path, {
    title,
    panels,
    // The last panel is the recommendations, which the page shows as a table instead.
    pagePanels: panels.slice(0, -1),
    page: (charts) => html(title, advice, charts),
  });
}

function html(title: string, advice: Advice, charts: readonly string[]): string {
  const rows = recommendationRows(advice)
    .map(
      (r) =>
        `<tr><th>${escapeHtml(r.name)}</th><td>${escapeHtml(r.value)}</td><td>${escapeHtml(r.because)}</td></tr>`,
    )
    .join('\n');
  const notes = advice.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}th,td{text-align:left;padding:.3em .8em;border-bottom:1px solid #ddd;vertical-align:top}</style>',
    `</head><body><h1>${escapeHtml(title)}</h1>`,
    `<h2>Recommendations</h2><table><tr><th></th><th>advice</th><th>because</th></tr>\n${rows}\n</table>`,
    notes ? `<h2>Notes</h2><ul>${notes}</ul>` : '',
    '<h2>Figures</h2>',
    ...charts.map((svg) => `<figure>${svg}</figure>`),
    '</body></html>',
  ].join('\n');
}
