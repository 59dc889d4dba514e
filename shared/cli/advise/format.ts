/** The advice as a table for people (what `pipeline advise` prints without `--json`). */

import { fmt } from '../../pipeline/capacity/format.ts';
import type { Advice } from './advice.ts';

/** Plain text, one section per concern; each recommendation is followed by the figure behind it. */
export function formatAdvice(advice: Advice): string {
  const out: string[] = [];
  const { source: s } = advice;
  out.push(
    `pipeline advise — ${s.name}: ${fmt(s.writes)} writes, ${fmt(s.reads)} reads, ${fmt(s.badLines)} bad line(s)`,
  );
  for (const bad of s.badLineSamples) out.push(`  skipped line ${bad.line}: ${bad.reason}`);
  out.push('');
  out.push(...figures(advice));
  out.push('');
  out.push(...hotPartitions(advice));
  out.push('Recommendations');
  const r = advice.recommendations;
  const es = r.eventSource;
  const rows: [
    string,
    string,
    { reason: string; driver: { figure: string; value: number; unit: string } },
  ][] = [
    [
      'batch size + window',
      `${fmt(r.batch.batchSize)} records, ${r.batch.maxBatchingWindowSeconds} s`,
      r.batch,
    ],
    [
      'event source',
      es.mode === 'standard'
        ? `standard, maxConcurrency ${es.maxConcurrency}`
        : `provisioned pollers ${es.provisionedPollers.minimum}..${es.provisionedPollers.maximum}`,
      es,
    ],
    ['Lambda memory', `${fmt(r.memoryMiB.value)} MiB`, r.memoryMiB],
    ['WriteBatcher concurrency', String(r.writeConcurrency.value), r.writeConcurrency],
    ['coalescing', r.coalescing.pays ? 'pays' : 'pays little', r.coalescing],
    ['sharding', shardingValue(advice), r.sharding],
    [
      'warm throughput',
      r.warmThroughput.needed
        ? r.warmThroughput.tables.map((t) => `${t.table} ${fmt(t.writeUnitsPerSecond)} WCU/s`).join(', ')
        : 'not needed',
      r.warmThroughput,
    ],
    [
      'GPU messagesPerTask',
      r.gpu.computed ? `${r.gpu.messagesPerTask} (maxInstances ${r.gpu.maxInstances})` : 'not computed',
      r.gpu,
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value, advice] of rows) {
    out.push(`  ${label.padEnd(width)}  ${value}`);
    out.push(
      `  ${' '.repeat(width)}  ← ${advice.driver.figure} ${fmt(advice.driver.value)} ${advice.driver.unit}: ${advice.reason}`,
    );
  }
  if (advice.notes.length > 0) {
    out.push('', 'Notes');
    for (const note of advice.notes) out.push(`  - ${note}`);
  }
  return `${out.join('\n')}\n`;
}

function figures(a: Advice): string[] {
  const rows: [string, string][] = [];
  const queue = a.live?.queue;
  const observed =
    queue && queue.meanPerSec !== null && queue.meanPerSec > 0
      ? `; queue: ${fmt(queue.meanPerSec)}/s mean, ${fmt(queue.peakPerSec ?? 0)}/s in the peak minute, burstiness ${fmt(a.burstiness)}`
      : a.observed
        ? `; sample: ${fmt(a.observed.meanPerSec)}/s mean, ${fmt(a.observed.peakPerSec)} peak second, burstiness ${fmt(a.burstiness)}`
        : '; sample has no timestamps';
  const source = { flag: '--rate', sample: 'the sample’s', external: 'the queue’s' }[a.rateSource];
  rows.push(['rate', `${fmt(a.rate)} messages/s (${source})${observed}`]);
  rows.push(...liveRows(a));
  for (const [label, k] of [
    ['keys', a.keys],
    ['partitions', a.partitions],
  ] as const) {
    const hottest = k.top[0];
    const name = hottest
      ? ` (${hottest.table} ${hottest.partitionKey}${'sortKey' in hottest ? ` ${hottest.sortKey}` : ''})`
      : '';
    rows.push([
      label,
      `${fmt(k.distinct)} distinct, entropy ${k.entropyBits.toFixed(2)} bits (${pct(k.normalizedEntropy)} of uniform); hottest ${pct(k.hottestShare)}${name}`,
    ]);
  }
  const d = a.duplicates;
  const others = d.byWindow
    .filter((w) => w.windowSeconds !== a.duplicates.windowSeconds)
    .map((w) => `${w.windowSeconds} s: ${pct(w.duplicateRatio)}`)
    .join(', ');
  rows.push([
    'duplicates',
    d.measurable
      ? `${pct(d.ratio)} in ${d.windowSeconds} s batches of ${fmt(d.batchSize)}${others ? ` (${others})` : ''}`
      : d.reason,
  ]);
  const v = a.versions;
  rows.push([
    'versions',
    !v.measurable
      ? `${fmt(v.versioned)} versioned items; order ${v.reason}`
      : v.versioned === 0
        ? 'no versioned writes'
        : `${fmt(v.versioned)} versioned: ${pct(v.outOfOrderRatio)} out of order (max lag ${fmt(v.maxLag)}), ${fmt(v.repeated)} repeated`,
  ]);
  const b = a.itemBytes;
  rows.push([
    'item sizes',
    `p50 ${fmt(b.p50)} B, p90 ${fmt(b.p90)} B, p99 ${fmt(b.p99)} B, max ${fmt(b.max)} B; ${fmt(a.writeUnits.perMessage)} WCU per message → ${fmt(a.writeUnits.perSec)} WCU/s (peak ${fmt(a.writeUnits.peakPerSec)})`,
  ]);
  if (a.reads) rows.push(['reads', `${fmt(a.reads.perSec)}/s, ${fmt(a.reads.readWriteRatio)} per write`]);
  const rejected = Object.entries(a.rejected);
  if (rejected.length > 0)
    rows.push(['rejected', rejected.map(([code, n]) => `${code} ${fmt(n)}`).join(', ')]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, text]) => `${label.padEnd(width)}  ${text}`);
}

function liveRows(a: Advice): [string, string][] {
  const rows: [string, string][] = [];
  const t = a.live?.table;
  if (t) {
    const keys = t.sortKey === undefined ? t.partitionKey : `${t.partitionKey}, ${t.sortKey}`;
    rows.push([
      'table',
      `${t.tableName} as ${t.logical} (keys ${keys}): ${fmt(t.scanned)} items scanned${t.capped ? ' (capped by --sample)' : ''}, ${fmt(t.versioned)} versioned, ${fmt(t.tombstones)} tombstones`,
    ]);
  }
  const q = a.live?.queue;
  if (q) {
    rows.push([
      'queue',
      `${q.queueName}: ${fmt(q.messagesSent)} sent in ${fmt(q.windowSeconds / 60)} min (${fmt(q.datapoints)} minutes with data); backlog ${fmt(q.backlog.visible)} visible, ${fmt(q.backlog.inFlight)} in flight, ${fmt(q.backlog.delayed)} delayed`,
    ]);
  }
  return rows;
}

function hotPartitions(a: Advice): string[] {
  if (a.hotPartitions.length === 0) return [`no hot partitions at ${fmt(a.rate)} messages/s`, ''];
  const header = [
    'table',
    'partition key',
    'WCU/s',
    'peak',
    'shards',
    'by',
    'per shard',
    'hottest item WCU/s',
  ];
  const rows = a.hotPartitions.map((h) => [
    h.table,
    h.partitionKey,
    fmt(h.writeUnitsPerSec),
    fmt(h.peakWriteUnitsPerSec),
    h.meetsLimit ? String(h.shards) : `${h.shards} (not enough)`,
    h.by,
    fmt(h.shardWriteUnitsPerSec),
    fmt(h.hottestItem.writeUnitsPerSec),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [
    `hot partitions (over 1,000 WCU/s at ${fmt(a.rate)} messages/s)`,
    line(header),
    ...rows.map(line),
    '',
  ];
}

function shardingValue(a: Advice): string {
  if (!a.recommendations.sharding.needed) return 'not needed';
  return a.hotPartitions
    .map((h) => `${h.table} "${h.partitionKey}" → ${h.shards} shards by ${h.by}`)
    .join(', ');
}

function pct(share: number): string {
  return `${(share * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })} %`;
}
