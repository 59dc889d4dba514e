import { randomUUID } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { generateWorkload } from '../../shared/cli/send/workload.ts';
import type { Message } from '../../shared/contract/message.ts';
import { createQueue } from '../../shared/local/resources/write-path.ts';
import { PipelineProducer, type SenderStats } from '../../shared/sqs/producer.ts';
import { type BenchContext, median, table } from './context.ts';

const ROUNDS = 5;
const ITEM_BYTES = 200;

/**
 * Producer: the same contract messages (200-byte items) sent to the embedded SQS (a) with
 * SendMessage one at a time, awaiting each, and (b) streamed through PipelineProducer with its
 * defaults (validation, batches of ≤ 10, 8 requests in flight, backpressure). Interleaved over five
 * rounds, each on a fresh queue; medians reported, and the speedup as the median of the rounds'
 * ratios, so that load from elsewhere on the machine hits both sides of a ratio alike. Then (c) a low-rate caller awaiting every `put()`
 * shows the latency the `maxDelayMs` flush adds.
 */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const oneByOneCount = ctx.quick ? 300 : 2_000;
  const producerCount = ctx.quick ? 3_000 : 30_000;
  const client = new SQSClient({ maxAttempts: 1 });
  const oneByOne: number[] = [];
  const producer: number[] = [];
  const producerStats: SenderStats[] = [];

  for (let round = 1; round <= ROUNDS; round++) {
    gc();
    const baselineQueue = await queue(client, 'one-by-one');
    const baselineSeconds = await timed(async () => {
      for (const message of messages(oneByOneCount, round)) {
        await client.send(
          new SendMessageCommand({ QueueUrl: baselineQueue, MessageBody: JSON.stringify(message) }),
        );
      }
    });
    oneByOne.push(oneByOneCount / baselineSeconds);

    gc();
    const producerQueue = await queue(client, 'producer');
    const p = new PipelineProducer({ queueUrl: producerQueue, client });
    const producerSeconds = await timed(async () => {
      for (const message of messages(producerCount, round)) {
        const { receipt } = await p.enqueueMessage(message);
        receipt.catch(() => {}); // failures are counted in p.stats
      }
      await p.flush();
    });
    await p.close();
    producer.push(producerCount / producerSeconds);
    producerStats.push(p.stats);
    ctx.log(
      `  round ${round}: one-by-one ${(oneByOneCount / baselineSeconds).toFixed(0)} msgs/s, ` +
        `producer ${(producerCount / producerSeconds).toFixed(0)} msgs/s (${p.stats.entriesPerRequest.toFixed(2)} entries/request)`,
    );
  }

  const lowRate = await lowRateLatency(client, ctx.quick ? 50 : 200);
  client.destroy();

  const totals = producerStats.reduce(
    (sum, s) => ({
      requests: sum.requests + s.requests,
      entries: sum.entries + s.requestEntries,
      failed: sum.failed + s.failed,
      retries: sum.retries + s.retries,
    }),
    { requests: 0, entries: 0, failed: 0, retries: 0 },
  );
  const msgsPerSec = {
    producer: Math.round(median(producer)),
    sendMessageOneByOne: Math.round(median(oneByOne)),
  };
  const speedup = median(producer.map((rate, i) => rate / oneByOne[i]!));
  const entriesPerRequest = totals.entries / totals.requests;

  ctx.log(
    table([
      {
        strategy: 'SendMessage one at a time',
        'msgs/s (median)': msgsPerSec.sendMessageOneByOne,
        messages: oneByOneCount,
      },
      {
        strategy: 'PipelineProducer (defaults)',
        'msgs/s (median)': msgsPerSec.producer,
        messages: producerCount,
      },
    ]),
  );
  ctx.log(
    `speedup ${speedup.toFixed(2)}× (target ≥ 6), entries/request ${entriesPerRequest.toFixed(2)} (target ≥ 9.5), ` +
      `low-rate put() latency p50 ${lowRate.p50Ms.toFixed(1)} ms, p95 ${lowRate.p95Ms.toFixed(1)} ms`,
  );

  return {
    msgsPerSec,
    speedup: round2(speedup),
    entriesPerRequest: round2(entriesPerRequest),
    targets: { speedup: 6, entriesPerRequest: 9.5 },
    met: { speedup: speedup >= 6, entriesPerRequest: entriesPerRequest >= 9.5 },
    rounds: {
      sendMessageOneByOne: oneByOne.map(Math.round),
      producer: producer.map(Math.round),
      speedup: producer.map((rate, i) => round2(rate / oneByOne[i]!)),
    },
    producerTotals: totals,
    lowRatePutLatencyMs: { p50: round2(lowRate.p50Ms), p95: round2(lowRate.p95Ms), messages: lowRate.count },
    settings: {
      rounds: ROUNDS,
      itemBytes: ITEM_BYTES,
      oneByOneMessages: oneByOneCount,
      producerMessages: producerCount,
      producer: { maxInFlight: 8, maxBuffered: 1000, maxDelayMs: 10 },
    },
  };
}

/** A caller that awaits each `put()`: every message waits up to maxDelayMs for company, then goes alone. */
async function lowRateLatency(client: SQSClient, count: number) {
  const p = new PipelineProducer({ queueUrl: await queue(client, 'low-rate'), client });
  const latencies: number[] = [];
  for (const message of messages(count, 0)) {
    latencies.push((await timed(() => p.sendMessage(message))) * 1000);
  }
  await p.close();
  return { count, p50Ms: quantile(latencies, 0.5), p95Ms: quantile(latencies, 0.95) };
}

function* messages(count: number, seed: number): Generator<Message> {
  const workload = generateWorkload({
    count,
    keys: 10_000,
    keyDistribution: { kind: 'uniform' },
    itemBytes: ITEM_BYTES,
    versions: true,
    shuffleVersions: false,
    invalidRate: 0,
    seed,
  });
  for (const m of workload) if (m.valid) yield m.message;
}

async function queue(client: SQSClient, name: string): Promise<string> {
  return (await createQueue(client, { queueName: `bench-${name}-${randomUUID().slice(0, 8)}` })).url;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
