/** The human table `pipeline simulate` prints by default. */

import { fmt } from '../../pipeline/capacity/format.ts';
import { listPrices } from '../../simulator/index.ts';
import type { SimulationDocument } from './document.ts';

export function formatSimulation(doc: SimulationDocument): string {
  const r = doc.result;
  const s = r.settings;
  const es = s.eventSource;
  const m = r.messages;
  const usd = (v: number) => `$${v < 1 ? v.toFixed(4) : v.toFixed(2)}`;
  const ms = (v: number) => (v >= 10_000 ? `${fmt(Math.round(v / 1000))} s` : `${fmt(Math.round(v))} ms`);
  const rows: [string, string][] = [
    [
      'workload',
      `${doc.source.name} (${fmt(doc.source.lines)} lines${doc.source.badLines ? `, ${doc.source.badLines} bad` : ''})`,
    ],
    [
      'rate × duration',
      `${fmt(doc.ratePerSec)} messages/s × ${fmt(doc.durationSeconds)} s (seed ${r.seed}; ${fmt(r.simulatedSeconds)} s simulated)`,
    ],
    [
      'settings',
      `batch ${fmt(es.batchSize)}, window ${es.maxBatchingWindowSeconds} s, ` +
        (es.provisionedPollers
          ? `pollers ${es.provisionedPollers.minimum}..${es.provisionedPollers.maximum}`
          : `max concurrency ${es.maximumConcurrency ?? 'none'}`) +
        `, ${fmt(s.lambda.memoryMiB)} MiB, write concurrency ${s.lambda.writeConcurrency}, ` +
        `table ${s.table.billingMode === 'PROVISIONED' ? `${fmt(s.table.provisionedWriteUnits ?? 0)} WCU` : `on demand (warm ${fmt(s.table.warmWriteUnitsPerSec)} WCU/s)`}`,
    ],
    ['throughput', `${fmt(Math.round(r.throughputPerSec))} messages/s`],
    ['latency', `p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}, max ${ms(r.latencyMs.max)}`],
    ['peak backlog', `${fmt(Math.round(r.peakBacklog))} messages`],
    [
      'messages',
      `${fmt(Math.round(m.sent))} sent: ${fmt(Math.round(m.written))} written, ${fmt(Math.round(m.rejected))} rejected, ` +
        `${fmt(Math.round(m.deadLettered))} dead-lettered after retries, ${fmt(Math.round(m.queued + m.inFlight))} still queued or in flight`,
    ],
    [
      'Lambda',
      `${fmt(r.lambda.invocations)} invocations (mean batch ${fmt(Math.round(r.lambda.meanBatchSize))}), peak concurrency ${r.peakConcurrency}, ` +
        `${fmt(r.lambda.coldStarts)} cold starts, ${fmt(Math.round(r.lambda.gbSeconds))} GB-s`,
    ],
    [
      'DynamoDB',
      `${fmt(Math.round(r.dynamodb.writeUnits))} WCU (${fmt(Math.round(r.dynamodb.meanWriteUnitsPerSec))}/s), ` +
        `${fmt(Math.round(r.dynamodb.writeRequests))} requests, ${fmt(Math.round(r.dynamodb.throttledRequests))} throttled`,
    ],
  ];
  if (r.gpu)
    rows.push([
      'GPU',
      `${fmt(r.gpu.instanceHours)} instance-hours, peak ${r.gpu.peakTasks} tasks, peak backlog ${fmt(Math.round(r.gpu.peakBacklog))} jobs, ` +
        `job latency p50 ${ms(r.gpu.latencyMs.p50)}, p99 ${ms(r.gpu.latencyMs.p99)}`,
    ]);
  const c = r.cost;
  rows.push([
    'cost (list prices)',
    `${usd(c.total)}: Lambda ${usd(c.lambdaCompute + c.lambdaRequests)}, DynamoDB ${usd(c.dynamodbWrites)}, ` +
      `SQS ${usd(c.sqsRequests)}${c.gpuInstances > 0 ? `, GPU ${usd(c.gpuInstances)}` : ''} (${listPrices.region}, ${listPrices.asOf})`,
  ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  const notes = doc.notes.map((n) => `note: ${n}`);
  return `${[...lines, ...notes].join('\n')}\n`;
}
