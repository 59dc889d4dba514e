import { describe, expect, it } from 'vitest';
import type { Message } from '../../../../../shared/contract/index.ts';
import { analyzeWorkload } from '../../../../../shared/pipeline/capacity/analyze.ts';
import type { SampleRecord } from '../../../../../shared/pipeline/capacity/sample.ts';
import type { RoutesConfig } from '../../../../../shared/pipeline/routing.ts';

let line = 0;
function write(message: Message, at?: number): SampleRecord {
  line++;
  return {
    line,
    kind: 'write',
    message,
    bodyBytes: JSON.stringify(message).length,
    ...(at === undefined ? {} : { at }),
  };
}
const put = (pk: string, sk: string, version?: number, at?: number) =>
  write({ op: 'put', item: { pk, sk }, ...(version === undefined ? {} : { version }) }, at);

/** Eight sort keys of `hot`, two of `cold`: ten distinct items. */
function hotSample(version?: number): SampleRecord[] {
  return [
    ...Array.from({ length: 8 }, (_, i) => put('hot', `s${i}`, version)),
    put('cold', 'c0', version),
    put('cold', 'c1', version),
  ];
}

describe('analyzeWorkload: keys, partitions and duplicates', () => {
  // a/1 twice, a/2, b/1 at 10 messages/s: replayed in batches of 10 × 1 s / 5 pollers = 2.
  const analysis = analyzeWorkload([put('a', '1'), put('a', '1'), put('a', '2'), put('b', '1')], {
    rate: 10,
  });

  it('counts distinct keys and the entropy of their distribution (1/2, 1/4, 1/4: 1.5 bits)', () => {
    expect(analysis.keys).toMatchObject({ distinct: 3, entropyBits: 1.5, hottestShare: 0.5 });
    expect(analysis.keys.normalizedEntropy).toBeCloseTo(1.5 / Math.log2(3), 4);
    expect(analysis.keys.top[0]).toEqual({ table: 'items', partitionKey: 'a', sortKey: '1', share: 0.5 });
  });

  it('counts partition keys alone (3/4, 1/4: 0.8113 bits)', () => {
    expect(analysis.partitions).toMatchObject({ distinct: 2, entropyBits: 0.8113, hottestShare: 0.75 });
    expect(analysis.partitions.top.map((p) => p.partitionKey)).toEqual(['a', 'b']);
  });

  it('measures duplicates in consecutive batches: [a/1, a/1] [a/2, b/1] coalesce one write of four', () => {
    expect(analysis.windows.map((w) => [w.windowSeconds, w.replayBatchSize, w.duplicateRatio])).toEqual([
      [1, 2, 0.25],
      [2, 4, 0.25],
      [5, 10, 0.25],
    ]);
    expect(analysis.chosen.windowSeconds).toBe(1);
    // Three writes of 1 WCU reach DynamoDB per four messages.
    expect(analysis.writeUnits).toEqual({ perMessage: 0.75, perSec: 7.5, peakPerSec: 7.5 });
  });
});

describe('analyzeWorkload: hot partitions at the target rate', () => {
  it('lists a partition key over 1,000 WCU/s with the shards that bring each under 800', () => {
    // hot: 8 of 10 messages × 2,000/s × 1 WCU = 1,600 WCU/s; by sort key hash s0..s7 split 4/4 over 2 shards.
    const { hotPartitions } = analyzeWorkload(hotSample(), { rate: 2000 });
    expect(hotPartitions).toHaveLength(1);
    expect(hotPartitions[0]).toMatchObject({
      table: 'items',
      partitionKey: 'hot',
      writeUnitsPerSec: 1600,
      currentShards: 1,
      busiestShardWriteUnitsPerSec: 1600,
      shards: 2,
      by: 'sortKeyHash',
      shardWriteUnitsPerSec: 800,
      meetsLimit: true,
      hottestItem: { sortKey: 's0', writeUnitsPerSec: 200 },
    });
  });

  it('counts version-guarded transactions at 2 WCU: 3,200 WCU/s needs 4 shards (2 sort keys each)', () => {
    const { hotPartitions } = analyzeWorkload(hotSample(1), { rate: 2000 });
    expect(
      hotPartitions.map((h) => [h.partitionKey, h.writeUnitsPerSec, h.shards, h.shardWriteUnitsPerSec]),
    ).toEqual([['hot', 3200, 4, 800]]);
    const conditional = analyzeWorkload(hotSample(1), { rate: 2000, versionedWrites: 'conditional-put' });
    expect(conditional.hotPartitions.map((h) => h.shards)).toEqual([2]);
  });

  it('lists nothing at a rate the partition sustains', () => {
    expect(analyzeWorkload(hotSample(), { rate: 1250 }).hotPartitions).toEqual([]);
  });

  it('proposes round-robin for an append-only key of a put-only route', () => {
    const routes: RoutesConfig = {
      items: { tableName: 'events', partitionKey: 'pk', sortKey: 'sk', keyType: 'S', ops: ['put'] },
    };
    const { hotPartitions, tables } = analyzeWorkload(hotSample(), { rate: 2000, routes });
    expect(hotPartitions.map((h) => [h.tableName, h.by, h.shards])).toEqual([['events', 'roundRobin', 2]]);
    expect(tables).toEqual([{ table: 'events', writeUnitsPerSec: 2000, peakWriteUnitsPerSec: 2000 }]);
  });

  it('measures a key the route already shards per shard', () => {
    const routes: RoutesConfig = {
      items: {
        tableName: 'items',
        partitionKey: 'pk',
        sortKey: 'sk',
        keyType: 'S',
        ops: ['put', 'delete'],
        shards: { hot: { count: 2, by: 'sortKeyHash' } },
      },
    };
    // 3,200 WCU/s over 2 shards is 1,600 on each: still hot, and 4 shards are advised.
    const { hotPartitions } = analyzeWorkload(hotSample(1), { rate: 2000, routes });
    expect(hotPartitions[0]).toMatchObject({
      currentShards: 2,
      busiestShardWriteUnitsPerSec: 1600,
      shards: 4,
    });
  });
});

describe('analyzeWorkload: rate, versions, rejects', () => {
  it('takes the rate and burstiness from sentAt: seconds of 3, 1 and 2 messages', () => {
    const sample = [0, 100, 200, 1000, 2000, 2100].map((at, i) => put('k', `s${i}`, undefined, at));
    const analysis = analyzeWorkload(sample);
    expect(analysis.rate).toBe(2);
    expect(analysis.rateSource).toBe('sample');
    expect(analysis.observed).toEqual({
      durationSeconds: 2.1,
      meanPerSec: 2,
      peakPerSec: 3,
      burstiness: 1.5,
      coefficientOfVariation: 0.408,
      perSecond: [3, 1, 2],
    });
  });

  it('counts versions that arrive behind a higher one, and repeats of the highest', () => {
    const sample = [put('a', '1', 1), put('a', '1', 3), put('a', '1', 2), put('a', '1', 3), put('b', '1', 1)];
    expect(analyzeWorkload(sample, { rate: 10 }).versions).toEqual({
      versioned: 5,
      outOfOrder: 1,
      repeated: 1,
      outOfOrderRatio: 0.2,
      maxLag: 1,
    });
  });

  it('counts what the batch writer would reject, by code, and leaves it out of the keys', () => {
    const routes: RoutesConfig = {
      items: { tableName: 'items', partitionKey: 'pk', sortKey: 'sk', keyType: 'S', ops: ['put', 'delete'] },
    };
    const sample = [
      put('a', '1'),
      write({ op: 'put', table: 'nope', item: { pk: 'a', sk: '1' } }),
      write({ op: 'put', item: { pk: 'a', sk: '2', blob: 'x'.repeat(410_000) } }),
    ];
    const analysis = analyzeWorkload(sample, { rate: 10, routes });
    expect(analysis.sample.rejected).toEqual({ UNKNOWN_TABLE: 1, ITEM_TOO_LARGE: 1 });
    expect(analysis.keys.distinct).toBe(1);
  });

  it('needs a rate when the sample has no timestamps', () => {
    expect(() => analyzeWorkload([put('a', '1')])).toThrow(
      expect.objectContaining({
        code: 'INVALID_ADVISE_OPTION',
        message: expect.stringContaining('pass --rate'),
      }),
    );
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => analyzeWorkload([put('a', '1')], { rate: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ADVISE_OPTION' }),
    );
  });
});

describe('analyzeWorkload with an external rate (a queue’s CloudWatch figures)', () => {
  const external = { source: 'queue ingest', meanPerSec: 10.5, burstiness: 3.81 };

  it('takes its mean as the rate and its burstiness, over the sample’s own timestamps', () => {
    // Act: the sample's timestamps alone would give 4 messages in 2 s.
    const analysis = analyzeWorkload(
      [
        put('a', '1', undefined, 0),
        put('b', '1', undefined, 500),
        put('c', '1', undefined, 1000),
        put('d', '1', undefined, 1999),
      ],
      { externalRate: external },
    );
    // Assess
    expect(analysis).toMatchObject({ rate: 10.5, rateSource: 'external', burstiness: 3.81 });
    expect(analysis.observed).toBeUndefined();
    expect(analysis.notes).toContain(
      "rate and burstiness from queue ingest; the sample's own timestamps ignored",
    );
  });

  it('keeps --rate as the target and the external burstiness', () => {
    const analysis = analyzeWorkload([put('a', '1'), put('b', '1')], { rate: 2000, externalRate: external });
    expect(analysis).toMatchObject({ rate: 2000, rateSource: 'flag', burstiness: 3.81 });
    expect(analysis.notes.join('\n')).not.toMatch(/burstiness unknown/);
  });
});
