import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { decodeDocument, deepFreeze } from '../../shared/snapshots/codec.ts';
import { SnapshotPublisher } from '../../shared/snapshots/publisher.ts';
import { SnapshotReader } from '../../shared/snapshots/reader.ts';
import { DynamoDbSnapshotStore } from '../../shared/snapshots/store.ts';
import { createSnapshotTable } from '../../shared/snapshots/table.ts';
import type { Compression } from '../../shared/snapshots/types.ts';
import { pseudoRandomDocument } from '../integration/snapshots/documents.ts';
import { type BenchContext, median, table } from './context.ts';

const MiB = 1024 * 1024;
const SIZES = { '1MB': 1 * MiB, '10MB': 10 * MiB, '50MB': 50 * MiB } as const;
type SizeLabel = keyof typeof SIZES;

/**
 * Config snapshots on the embedded DynamoDB: cached `get()` cost (against a plain field read, the
 * floor), requests per unchanged refresh (counted by SDK middleware), publish and cold-load time
 * for 1, 10 and 50 MB documents (brotli, the default; median of 3), reader heap for 50 MB, and
 * gzip against brotli on 10 MB.
 */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const requests = { count: 0 };
  const client = countingClient(requests);
  const tableName = `bench-snapshots-${randomUUID().slice(0, 8)}`;
  await createSnapshotTable(client, tableName);
  const store = new DynamoDbSnapshotStore({ client, tableName });
  try {
    const sizes: SizeLabel[] = ctx.quick ? ['1MB', '10MB'] : ['1MB', '10MB', '50MB'];
    const rounds = ctx.quick ? 1 : 3;

    const publishMs: Record<string, number | null> = { '1MB': null, '10MB': null, '50MB': null };
    const coldLoadMs: Record<string, number | null> = { '1MB': null, '10MB': null, '50MB': null };
    const shape: Array<Record<string, string | number>> = [];
    for (const label of sizes) {
      const document = pseudoRandomDocument(SIZES[label], 7);
      const result = await publishAndLoad(store, client, requests, `doc-${label}`, document, 'br', rounds);
      publishMs[label] = result.publishMs;
      coldLoadMs[label] = result.coldLoadMs;
      shape.push({ size: label, ...result.row });
      ctx.log(
        `  ${label}: publish ${result.publishMs.toFixed(0)} ms, cold load ${result.coldLoadMs.toFixed(0)} ms`,
      );
    }

    const compression: Record<string, unknown> = {};
    const compared: SizeLabel = ctx.quick ? '1MB' : '10MB';
    const sample = pseudoRandomDocument(SIZES[compared], 11);
    for (const algorithm of ['gzip', 'br'] as const) {
      const result = await publishAndLoad(
        store,
        client,
        requests,
        `cmp-${algorithm}`,
        sample,
        algorithm,
        rounds,
      );
      compression[algorithm] = {
        size: compared,
        publishMs: round(result.publishMs),
        coldLoadMs: round(result.coldLoadMs),
        compressedMiB: round(result.compressedBytes / MiB, 2),
        chunks: result.chunks,
      };
      shape.push({ size: `${compared} ${algorithm}`, ...result.row });
    }

    const largest = sizes.at(-1)!;
    const coldLoadPhasesMs = { size: largest, ...(await coldLoadPhases(store, `doc-${largest}`)) };
    ctx.log(`  cold load phases (${largest}): ${JSON.stringify(coldLoadPhasesMs)}`);
    const readerHeapMiB50MB = ctx.quick ? null : await readerHeap(store, 'doc-50MB');
    const refresh = await refreshCost(store, requests);
    const get = await getCost(store, ctx.quick ? 2_000_000 : 20_000_000);

    ctx.log(table(shape));
    ctx.log(
      table([
        {
          getNsPerOp: get.getNsPerOp,
          fieldReadNsPerOp: get.fieldReadNsPerOp,
          getForNsPerOp: get.getForNsPerOp,
          requestsPerUnchangedRefresh: refresh,
          readerHeapMiB50MB: readerHeapMiB50MB ?? 'n/a',
        },
      ]),
    );
    return {
      getNsPerOp: get.getNsPerOp,
      requestsPerUnchangedRefresh: refresh,
      publishMs,
      coldLoadMs,
      readerHeapMiB50MB,
      coldLoadPhasesMs,
      baseline: {
        fieldReadNsPerOp: get.fieldReadNsPerOp,
        getVsFieldRead: round(get.getNsPerOp / get.fieldReadNsPerOp, 2),
      },
      getForNsPerOp: get.getForNsPerOp,
      compression,
      documents: shape,
      rounds,
    };
  } finally {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    client.destroy();
  }
}

/** A client that counts every command it sends (SDK middleware at the initialize step). */
function countingClient(requests: { count: number }): DynamoDBClient {
  const client = new DynamoDBClient({});
  client.middlewareStack.add(
    (next) => async (args) => {
      requests.count++;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return client;
}

async function publishAndLoad(
  store: DynamoDbSnapshotStore,
  client: DynamoDBClient,
  requests: { count: number },
  name: string,
  document: unknown,
  compression: Compression,
  rounds: number,
) {
  const publisher = new SnapshotPublisher({ store, compression });
  const publishes: number[] = [];
  const loads: number[] = [];
  let loadRequests = 0;
  let manifest: Awaited<ReturnType<SnapshotPublisher['publish']>>['manifest'] | undefined;
  for (let i = 0; i < rounds; i++) {
    let started = performance.now();
    ({ manifest } = await publisher.publish(name, document, { source: 'bench' }));
    publishes.push(performance.now() - started);
    // A new reader on a new store: nothing cached but the SDK's connections.
    const reader = new SnapshotReader({
      store: new DynamoDbSnapshotStore({ client, tableName: store.tableName }),
      name,
    });
    const before = requests.count;
    started = performance.now();
    await reader.load();
    loads.push(performance.now() - started);
    loadRequests = requests.count - before;
    reader.stop();
  }
  const m = manifest!;
  return {
    publishMs: median(publishes),
    coldLoadMs: median(loads),
    compressedBytes: m.compressedBytes,
    chunks: m.chunkCount,
    row: {
      jsonMiB: round(m.bytes / MiB, 1),
      compressedMiB: round(m.compressedBytes / MiB, 2),
      chunks: m.chunkCount,
      publishMs: round(median(publishes)),
      coldLoadMs: round(median(loads)),
      coldLoadRequests: loadRequests,
    },
  };
}

/** Where a cold load's time goes: pointer + manifest, chunks, inflate + verify + parse, freeze. */
async function coldLoadPhases(store: DynamoDbSnapshotStore, name: string) {
  let at = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = Math.round(now - at);
    at = now;
    return ms;
  };
  const pointer = await store.getPointer(name);
  const manifest = (await store.getManifest(name, pointer!.stable))!;
  const pointerAndManifest = lap();
  const chunks = await store.getChunks(manifest);
  const fetchChunks = lap();
  const data = await decodeDocument(manifest, chunks);
  const inflateVerifyParse = lap();
  deepFreeze(data);
  const freeze = lap();
  return { pointerAndManifest, fetchChunks, inflateVerifyParse, freeze };
}

/** Heap the reader's 50 MB snapshot keeps alive, after full GCs (needs --expose-gc). */
async function readerHeap(store: DynamoDbSnapshotStore, name: string): Promise<number | null> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return null;
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const reader = new SnapshotReader({ store, name });
  await reader.load();
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  reader.stop();
  // Keep the reader reachable until after the measurement.
  return reader.get().bytes > 0 ? round((after - before) / MiB, 1) : null;
}

/** SDK requests per refresh of a reader whose pointer did not move. */
async function refreshCost(store: DynamoDbSnapshotStore, requests: { count: number }): Promise<number> {
  const publisher = new SnapshotPublisher({ store });
  await publisher.publish('refresh', { routing: {} });
  const reader = new SnapshotReader({ store, name: 'refresh' });
  await reader.load();
  const refreshes = 50;
  const before = requests.count;
  for (let i = 0; i < refreshes; i++) await reader.refresh();
  reader.stop();
  return (requests.count - before) / refreshes;
}

/** ns per cached `get()`, per plain field read (the floor) and per `getFor()` (a rollout hash). */
async function getCost(store: DynamoDbSnapshotStore, iterations: number) {
  const publisher = new SnapshotPublisher({ store });
  await publisher.publish('get', { routing: {} });
  await publisher.publish('get', { routing: { v: 2 } }, { rollout: { percentage: 50 } });
  const reader = new SnapshotReader({ store, name: 'get' });
  await reader.load();
  const holder = { value: reader.get() };
  let sink: unknown;
  const measure = (fn: () => unknown, n: number) => {
    for (let i = 0; i < Math.min(n, 100_000); i++) sink = fn();
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink = fn();
    return Number(process.hrtime.bigint() - started) / n;
  };
  const samples = { get: [] as number[], field: [] as number[] };
  for (let round = 0; round < 5; round++) {
    samples.field.push(measure(() => holder.value, iterations));
    samples.get.push(measure(() => reader.get(), iterations));
  }
  const getForNsPerOp = measure(() => reader.getFor({ key: 'device-42' }), Math.min(iterations, 200_000));
  reader.stop();
  if (sink === undefined) throw new Error('unreachable');
  return {
    getNsPerOp: round(median(samples.get), 2),
    fieldReadNsPerOp: round(median(samples.field), 2),
    getForNsPerOp: round(getForNsPerOp),
  };
}

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
