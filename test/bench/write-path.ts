import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  DynamoDBClient,
  type WriteRequest as DynamoWriteRequest,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import pLimit from 'p-limit';
import { processIngestBatch } from '../../functions/batch-writer/core.ts';
import { createBatchWriterHandler } from '../../functions/batch-writer/wiring.ts';
import { keySampler } from '../../shared/cli/send/workload.ts';
import { mulberry32 } from '../../shared/core/random.ts';
import { createQueue, createTable } from '../../shared/local/resources/write-path.ts';
import type { DeadLetterSink } from '../../shared/pipeline/dead-letter.ts';
import { Router } from '../../shared/pipeline/routing.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import { WriteBatcher } from '../../shared/write-batcher/write-batcher.ts';
import { type BenchContext, median, table } from './context.ts';
import * as peers from './peers.ts';
import { BATCH, buildBatches, lambdaContext } from './records.ts';

const execFileAsync = promisify(execFile);
/** Passes of the handler-CPU measurement; the median is reported. */
const CPU_PASSES = 7;
/** Records the handler-CPU measurement holds (five Lambda batches of 1,000). */
const CPU_RECORDS = 5_000;
/** Records the handler-CPU measurement runs through before it measures. */
const CPU_WARMUP_RECORDS = 40_000;
const { maxConcurrency } = writePathSettings.function;

/**
 * Write path, on one DynamoDB Local, every strategy consuming the same pre-built Lambda batches (SQS
 * is not in the loop), interleaved over several rounds (median taken) so machine noise and warm-up hit
 * each alike (the per-record strategies apart, the batch ones after a warm-up pass in a rotated order): PutItem one record at a time and all at once, a raw BatchWriteItem loop (the ceiling,
 * with and without consumed capacity), the peers users pick instead (ElectroDB, DynamoDB-Toolbox v2,
 * a plain lib-dynamodb loop, Powertools BatchProcessor + PutItem) and the real middy handler with
 * the WriteBatcher. Then: 30 % of every BatchWriteItem left unprocessed (SDK middleware), and
 * version-guarded writes as transactions vs one conditional PutItem each.
 */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const messages = ctx.quick ? 4_000 : 20_000;
  const rounds = ctx.quick ? 1 : 3;
  const batchRounds = ctx.quick ? 1 : 5;
  const ddb = new DynamoDBClient({ maxAttempts: 3 });
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
  const tables = await createTables(ddb, names);

  // The real handler, wired as deployed, with `items` routed to table d (the heap probe writes to
  // table j, so that table d holds no more data than the peers' tables when the strategies are timed).
  const dlq = await createQueue(new SQSClient({}), { queueName: `bench-dlq-${randomUUID().slice(0, 8)}` });
  const handler = createBatchWriterHandler(
    {
      routes: routesFor(tables.d!),
      dlqUrl: dlq.url,
      maxConcurrency,
      deadlineMarginMs: writePathSettings.function.deadlineMarginMs,
    },
    {
      logger: new Logger({ serviceName: 'batch-writer' }),
      metrics: new Metrics({ serviceName: 'batch-writer' }),
    },
  );
  const invoke = (records: SQSRecord[]) => handler({ Records: records } as SQSEvent, lambdaContext());
  // One 10,000-record event of 1 KB bodies, in a process of its own.
  const peakHeapMiB = await measurePeakHeap(tables.j!, dlq.url);
  // Handler CPU next, on five Lambda batches of its own, before the suite builds its 20,000 records:
  // a Lambda instance holds one event, and every major GC marks whatever the heap retains (over the
  // suite's 20,000 records held at once the same code reads ~1.6x higher).
  const cpuMicrosPerRecord = await measureCpu(buildBatches(CPU_RECORDS, (i) => `c${i}`, 200));
  const batches = buildBatches(messages, (i) => `u${i}`, 200);

  const peerClient = new DynamoDBClient({ maxAttempts: 3 });
  type Strategy = (records: SQSRecord[]) => Promise<unknown>;
  // One request per record: slow, and their 20,000 requests a pass leave DynamoDB Local's JVM with
  // garbage that slowed whichever batch strategy ran next. They run apart, before the others.
  const perRecord: Record<string, Strategy> = {
    putItemParallel: (records) => Promise.all(records.map((r) => putOne(ddb, tables.b!, r))),
    powertoolsBatchProcessorPutItem: peers.powertoolsBatchProcessorPutItem(peerClient, tables.i!),
  };
  const batched: Record<string, Strategy> = {
    batchWriteRaw: (records) => batchWriteRaw(ddb, tables.c!, records, 'NONE'),
    batchWriteRawWithCapacity: (records) => batchWriteRaw(ddb, tables.e!, records, 'TOTAL'),
    writeBatcher: invoke,
    plainLibDynamoDbLoop: peers.plainDocumentClientLoop(peerClient, tables.f!, maxConcurrency),
    electroDb: peers.electroDbBatchPut(peerClient, tables.g!, maxConcurrency),
    dynamoDbToolbox: peers.dynamoDbToolboxBatchWrite(peerClient, tables.h!, maxConcurrency),
  };
  const PEERS = ['plainLibDynamoDbLoop', 'electroDb', 'dynamoDbToolbox', 'powertoolsBatchProcessorPutItem'];

  const runs: Record<string, { seconds: number; cpuMicros: number }[]> = {};
  const timeIt = async (name: string, fn: (records: SQSRecord[]) => Promise<unknown>) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (const records of batches) await fn(records);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    runs[name] = [...(runs[name] ?? []), { seconds, cpuMicros: used.user + used.system }];
    ctx.log(`  ${name}: ${(messages / seconds).toFixed(0)} items/s`);
  };
  // Sequential PutItem once: it is slow.
  await timeIt('putItemSequential', async (records) => {
    for (const record of records) await putOne(ddb, tables.a!, record);
  });
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(perRecord)) await timeIt(name, fn);
  }
  // The batch strategies: one untimed pass each (JIT, table warm-up), then rounds in a rotated
  // order, so that no strategy always follows the same one.
  for (const fn of Object.values(batched)) for (const records of batches) await fn(records);
  const order = Object.entries(batched);
  for (let round = 0; round < batchRounds; round++) {
    for (let i = 0; i < order.length; i++) {
      const [name, fn] = order[(i + round) % order.length]!;
      await timeIt(name, fn);
    }
  }
  const results = Object.fromEntries(
    Object.entries(runs).map(([name, times]) => {
      const seconds = median(times.map((t) => t.seconds));
      const cpuMicrosPerWrite = median(times.map((t) => t.cpuMicros)) / messages;
      return [name, { itemsPerSec: messages / seconds, seconds, cpuMicrosPerWrite, runs: times.length }];
    }),
  );
  const requestsPerItem = await measureRequestsPerItem(tables.d!, batches);

  const zipf = await measureZipf(invoke, messages);
  const unprocessed = await measureUnprocessed(ctx, ddb, ctx.quick ? 4_000 : 10_000);
  const versioned = await measureVersioned(ctx, ddb, ctx.quick ? 2_000 : 6_000, rounds);

  const d = results.writeBatcher!;
  const fastestPeer = PEERS.reduce((best, name) =>
    results[name]!.itemsPerSec > results[best]!.itemsPerSec ? name : best,
  );
  const ratios = {
    writeBatcherVsFastestPeer: d.itemsPerSec / results[fastestPeer]!.itemsPerSec,
    writeBatcherVsBatchWriteRaw: d.itemsPerSec / results.batchWriteRaw!.itemsPerSec,
    writeBatcherVsBatchWriteRawWithCapacity: d.itemsPerSec / results.batchWriteRawWithCapacity!.itemsPerSec,
    writeBatcherVsPutItemSequential: d.itemsPerSec / results.putItemSequential!.itemsPerSec,
    writeBatcherVsPutItemParallel: d.itemsPerSec / results.putItemParallel!.itemsPerSec,
    writeBatcherCpuVsPlainLoop: d.cpuMicrosPerWrite / results.plainLibDynamoDbLoop!.cpuMicrosPerWrite,
  };
  ctx.log(
    table(
      Object.entries(results).map(([name, r]) => ({
        strategy: name,
        'items/s': r.itemsPerSec,
        'client CPU µs/write': r.cpuMicrosPerWrite,
        'writeBatcher ×': d.itemsPerSec / r.itemsPerSec,
      })),
    ),
  );
  ctx.log(`  fastest peer: ${fastestPeer}`);
  ctx.log(
    table([
      {
        requestsPerItem,
        writesPerMessageZipf: zipf,
        cpuMicrosPerRecord,
        'peakHeapMiB (10k × 1 KB)': peakHeapMiB,
      },
    ]),
  );
  return {
    messages,
    batchSize: BATCH,
    maxConcurrency,
    strategies: results,
    fastestPeer,
    ratios,
    requestsPerItem,
    writesPerMessageZipf: zipf,
    cpuMicrosPerRecord,
    peakHeapMiB10kRecords1KB: peakHeapMiB,
    unprocessed,
    versioned,
    targets: {
      writeBatcherVsFastestPeer: '≥ 1.0',
      writeBatcherVsBatchWriteRaw: '≥ 0.95',
      writeBatcherCpuVsPlainLoop: '≤ 1.0',
      'unprocessed.writeBatcher.requestsPerItem': '≤ 0.06',
      'versioned.transactionVsConditionalPut': '≥ 4',
      requestsPerItem: '≤ 0.042',
      writesPerMessageZipf: '≤ 0.30 (distinct-key bound)',
      cpuMicrosPerRecord: '≤ 5',
      peakHeapMiB10kRecords1KB: '≤ 128',
    },
  };
}

/**
 * Fault injection in SDK middleware: before each BatchWriteItem is sent, a seeded `share` of its
 * writes is held back and returned in UnprocessedItems, as DynamoDB does when it throttles part of a
 * request (at least one write always goes). Counts the requests sent.
 */
function withUnprocessedShare(
  client: DynamoDBClient,
  share: number,
  seed: number,
): { requests: () => number } {
  const random = mulberry32(seed);
  let requests = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests++;
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      const input = args.input as BatchWriteItemCommandInput;
      const sent: Record<string, DynamoWriteRequest[]> = {};
      const held: Record<string, DynamoWriteRequest[]> = {};
      for (const [tableName, writes] of Object.entries(input.RequestItems ?? {})) {
        for (const write of writes) {
          const into = random() < share ? held : sent;
          into[tableName] = [...(into[tableName] ?? []), write];
        }
      }
      if (Object.keys(sent).length === 0) {
        const [tableName, writes] = Object.entries(held)[0]!;
        sent[tableName] = [writes.shift()!];
        if (writes.length === 0) delete held[tableName];
      }
      const result = await next({ ...args, input: { ...input, RequestItems: sent } });
      const output = result.output as BatchWriteItemCommandOutput;
      const unprocessed = { ...(output.UnprocessedItems ?? {}) };
      for (const [tableName, writes] of Object.entries(held)) {
        unprocessed[tableName] = [...(unprocessed[tableName] ?? []), ...writes];
      }
      output.UnprocessedItems = unprocessed;
      return result;
    },
    { step: 'initialize', name: 'unprocessedShare' },
  );
  return { requests: () => requests };
}

/** 30 % of every request unprocessed: the WriteBatcher (repacking) against the plain loop (per-chunk retry). */
async function measureUnprocessed(ctx: BenchContext, admin: DynamoDBClient, count: number) {
  const tables = await createTables(admin, ['u1', 'u2']);
  const batches = buildBatches(count, (i) => `x${i}`, 200);
  const batcherClient = new DynamoDBClient({ maxAttempts: 1 });
  const batcherRequests = withUnprocessedShare(batcherClient, 0.3, 11);
  const loopClient = new DynamoDBClient({ maxAttempts: 3 });
  const loopRequests = withUnprocessedShare(loopClient, 0.3, 11);
  const batcher = new WriteBatcher({ client: batcherClient, maxConcurrency });
  const router = new Router(routesFor(tables.u1!));
  const loop = peers.plainDocumentClientLoop(loopClient, tables.u2!, maxConcurrency);
  const timed = async (fn: (records: SQSRecord[]) => Promise<unknown>) => {
    const started = performance.now();
    for (const records of batches) await fn(records);
    return count / ((performance.now() - started) / 1000);
  };
  let written = 0;
  const writeBatcher = await timed(async (records) => {
    const { summary } = await processIngestBatch(records, {
      router,
      batcher,
      deadLetters: noDeadLetters,
      deadline: { at: Date.now() + 120_000 },
    });
    written += summary.writes.written;
  });
  const plainLoop = await timed(loop);
  const result = {
    share: 0.3,
    writeBatcher: { itemsPerSec: writeBatcher, requestsPerItem: batcherRequests.requests() / count, written },
    plainLibDynamoDbLoop: { itemsPerSec: plainLoop, requestsPerItem: loopRequests.requests() / count },
    writeBatcherVsPlainLoop: writeBatcher / plainLoop,
  };
  ctx.log('  30 % unprocessed:');
  ctx.log(
    table([
      {
        strategy: 'writeBatcher',
        'items/s': writeBatcher,
        'requests/item': result.writeBatcher.requestsPerItem,
      },
      {
        strategy: 'plainLibDynamoDbLoop',
        'items/s': plainLoop,
        'requests/item': result.plainLibDynamoDbLoop.requestsPerItem,
      },
    ]),
  );
  return result;
}

/**
 * Version-guarded writes of distinct keys, into a fresh table each round: transactions
 * of 100 conditional puts vs one conditional PutItem each, same concurrency. Write units per write
 * are the batcher's computed figure (DynamoDB Local does not report a transaction's units as DynamoDB does).
 */
async function measureVersioned(ctx: BenchContext, admin: DynamoDBClient, count: number, rounds: number) {
  const modes = ['transaction', 'conditional-put'] as const;
  const batches = Array.from({ length: Math.ceil(count / BATCH) }, (_, b) =>
    buildBatches(Math.min(BATCH, count - b * BATCH), (i) => `v${b * BATCH + i}`, 200, 3).flat(),
  );
  const runs: Record<string, { seconds: number; units: number; requests: number }[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      const tables = await createTables(admin, [mode === 'transaction' ? 't' : 'p']);
      const tableName = Object.values(tables)[0]!;
      const client = new DynamoDBClient({ maxAttempts: 1 });
      const batcher = new WriteBatcher({ client, maxConcurrency, versionedWrites: mode });
      const router = new Router(routesFor(tableName));
      let units = 0;
      let requests = 0;
      const started = performance.now();
      for (const records of batches) {
        const { summary } = await processIngestBatch(records, {
          router,
          batcher,
          deadLetters: noDeadLetters,
          deadline: { at: Date.now() + 120_000 },
        });
        units += summary.writes.consumedWriteCapacity;
        requests += summary.writes.conditionalRequests;
      }
      runs[mode] = [
        ...(runs[mode] ?? []),
        { seconds: (performance.now() - started) / 1000, units, requests },
      ];
    }
  }
  const result = Object.fromEntries(
    modes.map((mode) => {
      const seconds = median(runs[mode]!.map((r) => r.seconds));
      const last = runs[mode]!.at(-1)!;
      return [
        mode,
        {
          writesPerSec: count / seconds,
          writeUnitsPerWrite: last.units / count,
          requestsPerWrite: last.requests / count,
        },
      ];
    }),
  ) as Record<
    (typeof modes)[number],
    { writesPerSec: number; writeUnitsPerWrite: number; requestsPerWrite: number }
  >;
  const ratio = result.transaction.writesPerSec / result['conditional-put'].writesPerSec;
  ctx.log('  version-guarded writes (distinct keys):');
  ctx.log(
    table(
      modes.map((mode) => ({
        mode,
        'writes/s': result[mode].writesPerSec,
        'WCU/write': result[mode].writeUnitsPerWrite,
        'requests/write': result[mode].requestsPerWrite,
      })),
    ),
  );
  return { ...result, transactionVsConditionalPut: ratio };
}

function routesFor(tableName: string) {
  return {
    items: {
      tableName,
      partitionKey: 'pk',
      sortKey: 'sk',
      keyType: 'S' as const,
      ops: ['put' as const, 'delete' as const],
    },
  };
}

async function createTables(ddb: DynamoDBClient, names: string[]): Promise<Record<string, string>> {
  const suffix = randomUUID().slice(0, 8);
  const entries = await Promise.all(
    names.map(async (n) => {
      const tableName = `bench-${n}-${suffix}`;
      await createTable(ddb, { tableName, partitionKey: 'pk', sortKey: 'sk' });
      return [n, tableName] as const;
    }),
  );
  return Object.fromEntries(entries);
}

async function putOne(ddb: DynamoDBClient, tableName: string, record: SQSRecord): Promise<void> {
  const message = JSON.parse(record.body) as { item: Record<string, unknown> };
  await ddb.send(new PutItemCommand({ TableName: tableName, Item: marshall(message.item) }));
}

async function batchWriteRaw(
  ddb: DynamoDBClient,
  tableName: string,
  records: SQSRecord[],
  returnConsumedCapacity: 'TOTAL' | 'NONE',
): Promise<void> {
  const limit = pLimit(maxConcurrency);
  const chunks: DynamoWriteRequest[][] = [];
  for (let i = 0; i < records.length; i += 25) {
    chunks.push(
      records
        .slice(i, i + 25)
        .map((r) => ({ PutRequest: { Item: marshall((JSON.parse(r.body) as { item: object }).item) } })),
    );
  }
  await Promise.all(
    chunks.map((chunk) =>
      limit(async () => {
        let pending: DynamoWriteRequest[] | undefined = chunk;
        while (pending && pending.length > 0) {
          const out: BatchWriteItemCommandOutput = await ddb.send(
            new BatchWriteItemCommand({
              RequestItems: { [tableName]: pending },
              ReturnConsumedCapacity: returnConsumedCapacity,
            }),
          );
          pending = out.UnprocessedItems?.[tableName];
        }
      }),
    ),
  );
}

/** DynamoDB requests per item written by the WriteBatcher, counted by SDK middleware on its client. */
async function measureRequestsPerItem(tableName: string, batches: SQSRecord[][]): Promise<number> {
  let requests = 0;
  const client = new DynamoDBClient({ maxAttempts: 1 });
  client.middlewareStack.add(
    (next) => async (args) => {
      requests++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequests' },
  );
  const batcher = new WriteBatcher({ client, maxConcurrency });
  const router = new Router(routesFor(tableName));
  let items = 0;
  for (const records of batches) {
    const { summary } = await processIngestBatch(records, {
      router,
      batcher,
      deadLetters: noDeadLetters,
      deadline: { at: Date.now() + 60_000 },
    });
    items += summary.writes.written;
  }
  return requests / items;
}

const noDeadLetters: DeadLetterSink = { send: async (letters) => letters.map(() => false) };

/** Zipf(s = 1.1) over 1,000 keys: DynamoDB item writes per message after coalescing. */
async function measureZipf(
  invoke: (records: SQSRecord[]) => Promise<unknown>,
  messages: number,
): Promise<number> {
  const sample = keySampler(1_000, { kind: 'zipf', s: 1.1 }, mulberry32(42));
  const keys = Array.from({ length: messages }, () => `z${sample()}`);
  const batches = buildBatches(messages, (i) => keys[i]!, 200);
  let writes = 0;
  for (const records of batches) {
    writes += new Set(records.map((r) => (JSON.parse(r.body) as { item: { pk: string } }).item.pk)).size;
    await invoke(records);
  }
  return writes / messages;
}

/** Handler core CPU per record, I/O excluded: a client that answers BatchWriteItem at once. */
async function measureCpu(batches: SQSRecord[][]): Promise<number> {
  const client = {
    send: async () => ({ UnprocessedItems: {}, ConsumedCapacity: [], $metadata: {} }),
  } as unknown as DynamoDBClient;
  const batcher = new WriteBatcher({ client, maxConcurrency });
  const router = new Router(routesFor('cpu'));
  const runAll = async () => {
    for (const records of batches) {
      await processIngestBatch(records, {
        router,
        batcher,
        deadLetters: noDeadLetters,
        deadline: { at: Date.now() + 60_000 },
      });
    }
  };
  // Warm-up as a warm Lambda instance is: V8 tiers a function up only after many calls, so the
  // first few thousand records run slower code (a pass over 4,000 records right after one other
  // measured up to 3x the steady figure).
  const records = batches.flat().length;
  for (let seen = 0; seen < CPU_WARMUP_RECORDS; seen += records) await runAll();
  // The median of several passes: one pass on a loaded 2-core machine moves by ±50 % (a GC, another
  // process), and the median is what a steady instance spends.
  const perRecord: number[] = [];
  for (let pass = 0; pass < CPU_PASSES; pass++) {
    const before = process.cpuUsage();
    await runAll();
    const used = process.cpuUsage(before);
    perRecord.push((used.user + used.system) / records);
  }
  return median(perRecord);
}

/**
 * Peak heap of one 10,000 × 1 KB event in a process of its own that holds what a Lambda instance
 * would (`heap-probe.ts`): measured in this one, the benchmark's peers, tables and results count too.
 */
async function measurePeakHeap(tableName: string, dlqUrl: string): Promise<number> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'test/bench/heap-probe.ts', tableName, dlqUrl],
    { env: process.env, maxBuffer: 1024 * 1024 },
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return (JSON.parse(line) as { peakHeapMiB: number }).peakHeapMiB;
}
