import { describe, expect, it } from 'vitest';
import type { Message } from '../../../../../shared/contract/index.ts';
import { analyzeWorkload } from '../../../../../shared/pipeline/capacity/analyze.ts';
import { recommend } from '../../../../../shared/pipeline/capacity/recommend.ts';
import type { SampleRecord } from '../../../../../shared/pipeline/capacity/sample.ts';

const MiB = 1024 * 1024;
let line = 0;
function put(pk: string, sk: string, at?: number): SampleRecord {
  const message: Message = { op: 'put', item: { pk, sk } };
  line++;
  return {
    line,
    kind: 'write',
    message,
    bodyBytes: JSON.stringify(message).length,
    ...(at === undefined ? {} : { at }),
  };
}
/** Ten distinct items, eight of them under partition key `hot`. */
const tenItems = () => [
  ...Array.from({ length: 8 }, (_, i) => put('hot', `s${i}`)),
  put('cold', 'c0'),
  put('cold', 'c1'),
];

describe('recommend at 2,000 messages/s, steady, 1 WCU per message', () => {
  const analysis = analyzeWorkload(tenItems(), { rate: 2000 });

  it('sizes the batch to what one of five pollers gathers in a second', () => {
    const { batch } = recommend(analysis);
    expect(batch).toMatchObject({
      batchSize: 400,
      maxBatchingWindowSeconds: 1,
      driver: { figure: 'target rate', value: 2000, unit: 'messages/s' },
    });
  });

  it('sizes concurrency from the requests a batch takes', () => {
    // 400 writes → 16 BatchWriteItem × 30 ms = 480 ms: 1 in flight would do, the floor is 4.
    // An invocation then takes 20 + 480 / 4 = 140 ms; 5 batches/s need 0.7 invocations, ×1.5 → 2.
    const { writeConcurrency, eventSource } = recommend(analysis);
    expect(writeConcurrency).toMatchObject({ value: 4, driver: { value: 16 } });
    expect(eventSource).toMatchObject({ mode: 'standard', maxConcurrency: 2, driver: { value: 0.7 } });
  });

  it('sizes memory from the measured heap, scaled from the 10 messages measured to the 400 of a batch', () => {
    // 1 MiB × 40 = 40 MiB: 160 + 2 × 40 = 240 → the 512 MiB floor; 10 MiB × 40 = 400 MiB: 960.
    expect(recommend(analysis, { batchHeapBytes: MiB }).memoryMiB).toMatchObject({
      value: 512,
      measured: true,
      driver: { value: 40 },
    });
    expect(recommend(analysis, { batchHeapBytes: 10 * MiB }).memoryMiB.value).toBe(960);
  });

  it('turns sharding on for the hot partition and gives the route option to publish', () => {
    const { sharding } = recommend(analysis);
    expect(sharding.needed).toBe(true);
    expect(sharding.routes).toEqual({ items: { shards: { hot: { count: 2, by: 'sortKeyHash' } } } });
    expect(sharding.driver).toEqual({
      figure: 'hottest partition write units/s',
      value: 1600,
      unit: 'WCU/s',
    });
  });

  it('leaves warm throughput off below the 4,000 WCU/s a new table has, and asks 1.2 × the peak above', () => {
    expect(recommend(analysis).warmThroughput).toMatchObject({ needed: false, tables: [] });
    const launch = analyzeWorkload(tenItems(), { rate: 5000 });
    expect(recommend(launch).warmThroughput).toMatchObject({
      needed: true,
      tables: [{ table: 'items', writeUnitsPerSecond: 6000 }],
    });
  });

  it('says coalescing pays little when no item repeats', () => {
    expect(recommend(analysis).coalescing).toMatchObject({
      pays: false,
      duplicateRatio: 0,
      savedWritesPerSec: 0,
    });
  });

  it('computes GPU messagesPerTask only from both GPU figures', () => {
    // 100 jobs/s fill 16-job messages; a 50 jobs/s task clears 3,000 jobs (187 messages) a minute;
    // 100 × 1.2 / 50 → 3 tasks.
    expect(recommend(analysis).gpu).toMatchObject({ computed: false });
    expect(recommend(analysis, { gpu: { jobsPerSec: 100, taskJobsPerSec: 50 } }).gpu).toMatchObject({
      computed: true,
      messagesPerTask: 187,
      maxInstances: 3,
    });
    expect(() => recommend(analysis, { gpu: { jobsPerSec: 100, taskJobsPerSec: 0 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ADVISE_OPTION' }),
    );
  });
});

describe('recommend for duplicates and bursts', () => {
  it('says coalescing pays when a quarter of the writes repeat an item', () => {
    const analysis = analyzeWorkload([put('a', '1'), put('a', '1'), put('a', '2'), put('b', '1')], {
      rate: 10,
    });
    expect(recommend(analysis).coalescing).toMatchObject({
      pays: true,
      duplicateRatio: 0.25,
      savedWritesPerSec: 2.5,
    });
  });

  it('picks provisioned pollers when the peak second is 3 × the mean', () => {
    // Seconds of 9, 1, 1 and 1 messages: mean 3, peak 9.
    const times = [...Array.from({ length: 9 }, (_, i) => i * 10), 1000, 2000, 3000];
    const analysis = analyzeWorkload(
      times.map((at, i) => put('k', `s${i}`, at)),
      { rate: 3000 },
    );
    expect(analysis.burstiness).toBe(3);
    const { eventSource, batch } = recommend(analysis);
    expect(eventSource).toMatchObject({
      mode: 'provisioned',
      provisionedPollers: { minimum: 2, maximum: 2 },
    });
    expect(eventSource.driver).toEqual({ figure: 'burstiness (peak/mean)', value: 3, unit: '×' });
    // 600 per poller-second at the mean, room for 1,800 at the peak.
    expect(batch.batchSize).toBe(1800);
  });
});
