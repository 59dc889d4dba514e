/**
 * Tracing's cost, CPU per record, I/O excluded (a DynamoDB client that answers at once): the batch
 * writer's handler core with no tracing code at all (what it ran before tracing existed), with
 * tracing off as deployed by default (`traceSqsBatch(tracingOff, …)`: the "zero cost when
 * off"), and with tracing on — spans to memory, with and without a context on every record (1000
 * links per batch span), and exported over OTLP/HTTP to a collector in this process (its CPU
 * counted too). Variants of one phase are interleaved over rounds, medians taken. Then the
 * producer's side: `SqsBatchSender.enqueue` per message with no trace context asked, asked but no
 * span active, and inside a span.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processIngestBatch } from '../../functions/batch-writer/core.ts';
import { toSqsRecord } from '../../shared/local/lambda/sqs-event.ts';
import type { DeadLetterSink } from '../../shared/pipeline/dead-letter.ts';
import { Router } from '../../shared/pipeline/routing.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import { SqsBatchSender } from '../../shared/sqs/index.ts';
import {
  recordBatchOutcome,
  startTracing,
  type Tracing,
  traceSqsBatch,
  tracingOff,
} from '../../shared/tracing/index.ts';
import { WriteBatcher } from '../../shared/write-batcher/index.ts';
import { startOtlpCollector } from '../support/otlp-collector.ts';
import { type BenchContext, median, table } from './context.ts';

const BATCH = 1_000;
const source = { queueArn: 'arn:aws:sqs:us-east-1:123456789012:ingest', region: 'us-east-1' };
const lambdaContext = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const noDeadLetters: DeadLetterSink = { send: async (letters) => letters.map(() => false) };

type Run = (records: SQSRecord[]) => Promise<unknown>;

export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const batchCount = ctx.quick ? 8 : 40;
  const rounds = ctx.quick ? 3 : 9;
  const plain = buildBatches(batchCount, false);
  const withContext = buildBatches(batchCount, true);
  const records = batchCount * BATCH;

  const client = {
    send: async () => ({ UnprocessedItems: {}, ConsumedCapacity: [], $metadata: {} }),
  } as unknown as DynamoDBClient;
  const batcher = new WriteBatcher({ client, maxConcurrency: writePathSettings.function.maxConcurrency });
  const router = new Router({
    items: { tableName: 'cpu', partitionKey: 'pk', sortKey: 'sk', keyType: 'S', ops: ['put', 'delete'] },
  });
  const core = (rs: readonly SQSRecord[]) =>
    processIngestBatch(rs, {
      router,
      batcher,
      deadLetters: noDeadLetters,
      deadline: { at: Date.now() + 60_000 },
    });
  // The batch writer's wiring, reduced to its tracing: the core inside traceSqsBatch, the outcome on
  // the span, and the flush its middleware does before each invocation returns.
  const handlerWith = (tracing: Tracing): Run => {
    const handler = traceSqsBatch(tracing, async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const { batchItemFailures, summary } = await core(event.Records);
      if (tracing.enabled) recordBatchOutcome({ succeeded: summary.succeeded, deadLettered: 0 });
      return { batchItemFailures };
    });
    return async (rs) => {
      await handler({ Records: rs }, lambdaContext);
      if (tracing.enabled) await tracing.flush();
    };
  };
  const measure = async (variants: Record<string, { run: Run; batches: SQSRecord[][] }>) => {
    const samples: Record<string, number[]> = {};
    for (const { run, batches } of Object.values(variants)) for (const b of batches.slice(0, 2)) await run(b); // JIT
    for (let round = 0; round < rounds; round++) {
      for (const [name, { run, batches }] of Object.entries(variants)) {
        const before = process.cpuUsage();
        for (const b of batches) await run(b);
        const used = process.cpuUsage(before);
        record(samples, name, (used.user + used.system) / records);
      }
    }
    return summarize(samples);
  };

  // Phase 1: off. Nothing registers a context manager or provider here, as in a function with tracing off.
  ctx.log('  handler CPU, tracing off vs no tracing code…');
  const off = await measure({
    noTracingCode: { run: (rs) => core(rs), batches: plain },
    tracingOff: { run: handlerWith(tracingOff), batches: plain },
    tracingOffRecordsWithContext: { run: handlerWith(tracingOff), batches: withContext },
  });

  // Phase 2: on.
  ctx.log('  handler CPU, tracing on…');
  const memory = await startTracing({ serviceName: 'bench', exporter: new InMemorySpanExporter(), env: {} });
  const collector = await startOtlpCollector();
  const otlpTracing = await startTracing({
    serviceName: 'bench',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
  });
  const on = await measure({
    noTracingCode: { run: (rs) => core(rs), batches: plain },
    tracingOnNoContext: { run: handlerWith(memory), batches: plain },
    tracingOnLinked: { run: handlerWith(memory), batches: withContext },
    tracingOnLinkedOtlpExport: { run: handlerWith(otlpTracing), batches: withContext },
  });
  const exported = collector.spans().length;
  await Promise.all([memory.shutdown(), otlpTracing.shutdown()]);
  await collector.close();

  const producer = await measureProducer(ctx.quick ? 20_000 : 100_000, rounds);

  const handlerCpuMicrosPerRecord = { off, on };
  ctx.log(
    table(
      [
        ...Object.entries(off).map(([k, v]) => [`off: ${k}`, v] as const),
        ...Object.entries(on).map(([k, v]) => [`on: ${k}`, v] as const),
      ].map(([variant, v]) => ({ variant, 'µs/record (median)': v.median, min: v.min, max: v.max })),
    ),
  );
  ctx.log(
    table(
      Object.entries(producer).map(([variant, v]) => ({
        variant,
        'µs/message (median)': v.median,
        min: v.min,
        max: v.max,
      })),
    ),
  );
  const offRatio = off.tracingOff!.median / off.noTracingCode!.median;
  const onRatio = on.tracingOnLinked!.median / on.noTracingCode!.median;
  ctx.log(
    `  tracing off / no tracing code: ${offRatio.toFixed(3)}; on (1000 links per batch) / no tracing code: ${onRatio.toFixed(3)}; spans exported over OTLP: ${exported}`,
  );
  return {
    records,
    rounds,
    handlerCpuMicrosPerRecord,
    ratios: { tracingOffVsNoTracingCode: offRatio, tracingOnLinkedVsNoTracingCode: onRatio },
    otlpSpansExported: exported,
    producerCpuMicrosPerMessage: producer,
  };
}

/** `SqsBatchSender.enqueue` per message against a client that accepts everything at once. */
async function measureProducer(messages: number, rounds: number) {
  const client = {
    send: async (command: SendMessageBatchCommand) => ({
      Successful: (command.input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: e.Id })),
    }),
    destroy: () => undefined,
  } as unknown as SQSClient;
  const queueUrl = 'http://127.0.0.1:9/123456789012/bench';
  const body = JSON.stringify({ op: 'put', item: { pk: 'a', sk: '1', data: 'x'.repeat(150) } });
  const sendAll = async (traceContext: boolean) => {
    const sender = new SqsBatchSender({ queueUrl, client, maxDelayMs: 0, traceContext });
    for (let i = 0; i < messages; i++) {
      const { receipt } = await sender.enqueue({ body });
      receipt.catch(() => undefined);
    }
    await sender.close();
  };
  const measure = async (variants: Record<string, () => Promise<void>>) => {
    const samples: Record<string, number[]> = {};
    for (const fn of Object.values(variants)) await fn(); // JIT
    for (let round = 0; round < rounds; round++) {
      for (const [name, fn] of Object.entries(variants)) {
        const before = process.cpuUsage();
        await fn();
        const used = process.cpuUsage(before);
        record(samples, name, (used.user + used.system) / messages);
      }
    }
    return summarize(samples);
  };
  // Off first, before anything registers a context manager: a producer without tracing.
  const off = await measure({ traceContextFalse: () => sendAll(false), noActiveSpan: () => sendAll(true) });
  const tracing = await startTracing({ serviceName: 'bench', exporter: new InMemorySpanExporter(), env: {} });
  const span = tracing.tracer.startSpan('produce');
  const on = await measure({
    insideSpan: () => context.with(trace.setSpan(context.active(), span), () => sendAll(true)),
  });
  span.end();
  await tracing.shutdown();
  return { ...off, ...on };
}

function buildBatches(count: number, traced: boolean): SQSRecord[][] {
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: BATCH }, (_, j) => {
      const i = b * BATCH + j;
      const body = JSON.stringify({
        op: 'put',
        table: 'items',
        item: { pk: `t${i}`, sk: '1', seq: i, data: 'x'.repeat(120) },
      });
      const traceparent = `00-${randomUUID().replaceAll('-', '')}-${randomUUID().replaceAll('-', '').slice(0, 16)}-01`;
      return toSqsRecord(
        {
          MessageId: randomUUID(),
          ReceiptHandle: `r${i}`,
          Body: body,
          ...(traced
            ? { MessageAttributes: { traceparent: { DataType: 'String', StringValue: traceparent } } }
            : {}),
        },
        source,
      );
    }),
  );
}

function summarize(samples: Record<string, number[]>) {
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      { median: median(s), min: Math.min(...s), max: Math.max(...s) },
    ]),
  );
}

function record(samples: Record<string, number[]>, name: string, value: number): void {
  const list = samples[name] ?? [];
  list.push(value);
  samples[name] = list;
}
