import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../../../shared/cli/pipeline.ts';
import { memoryIo } from '../../../../support/fakes/memory-io.ts';

// The example workloads shipped in shared/cli/advise/examples, through the CLI as a user runs them.
const root = fileURLToPath(new URL('../../../../../', import.meta.url));
const examples = 'shared/cli/advise/examples';

async function advise(args: string[]) {
  const io = memoryIo({ cwd: root });
  const code = await runCli(['advise', ...args, '--json'], io);
  expect({ code, err: io.err() }).toEqual({ code: 0, err: '' });
  return JSON.parse(io.out());
}

describe('pipeline advise on the example workloads', () => {
  it('uniform keys: no hot partition, entropy near its maximum, nothing to coalesce', async () => {
    const advice = await advise([`${examples}/uniform.jsonl`, '--rate', '5000']);
    expect(advice.source).toMatchObject({ writes: 2000, badLines: 0, timestamps: true });
    expect(advice.observed).toMatchObject({ meanPerSec: 400, burstiness: 1 });
    expect(advice.partitions.normalizedEntropy).toBeGreaterThan(0.99);
    expect(advice.hotPartitions).toEqual([]);
    expect(advice.recommendations.coalescing.pays).toBe(false);
    expect(advice.recommendations.batch).toMatchObject({ batchSize: 1000, maxBatchingWindowSeconds: 1 });
  });

  it('Zipf-hot tenants: tenant-0 takes a quarter of the writes and needs 4 shards at 5,000/s', async () => {
    const advice = await advise([`${examples}/zipf-hot.jsonl`, '--rate', '5000']);
    expect(advice.source).toMatchObject({ writes: 2400, reads: 400 });
    expect(advice.partitions.top[0]).toEqual({ table: 'items', partitionKey: 'tenant-0', share: 0.2504 });
    expect(advice.observed.burstiness).toBeCloseTo(2.69, 2);
    expect(advice.versions).toMatchObject({ versioned: 2400, outOfOrder: 6 });
    expect(advice.hotPartitions).toMatchObject([
      {
        table: 'items',
        partitionKey: 'tenant-0',
        writeUnitsPerSec: 2500,
        shards: 4,
        by: 'sortKeyHash',
        meetsLimit: true,
      },
    ]);
    expect(advice.reads.readWriteRatio).toBeCloseTo(1 / 6, 3);
    expect(advice.recommendations.sharding.routes).toEqual({
      items: { shards: { 'tenant-0': { count: 4, by: 'sortKeyHash' } } },
    });
    expect(advice.recommendations.warmThroughput.needed).toBe(true);
  });

  it('one hot append-only log: round-robin shards once its route is put-only', async () => {
    const advice = await advise([
      `${examples}/append-log.jsonl`,
      '--rate',
      '3000',
      '--routes',
      `${examples}/append-log.routes.json`,
    ]);
    expect(advice.partitions).toMatchObject({ distinct: 2, hottestShare: expect.closeTo(0.886, 3) });
    expect(advice.hotPartitions).toMatchObject([
      {
        table: 'events',
        tableName: 'pipeline-events',
        partitionKey: 'clickstream',
        shards: 4,
        by: 'roundRobin',
      },
    ]);
    // Without the routes, deletes are allowed: only the sort key hash is safe.
    const unrouted = await advise([`${examples}/append-log.jsonl`, '--rate', '3000']);
    expect(unrouted.hotPartitions.map((h: { by: string }) => h.by)).toEqual(['sortKeyHash']);
  });
});
