import { describe, expect, it } from 'vitest';
import { parseSampleLine } from '../../../../shared/pipeline/capacity/sample.ts';
import {
  duplicateRatioAt,
  InvalidWorkloadError,
  workloadFromSample,
} from '../../../../shared/simulator/index.ts';

const put = (pk: string, sk: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ op: 'put', item: { pk, sk }, ...extra });

const sample = (lines: readonly string[]) => lines.map((text, i) => parseSampleLine(text, i + 1));

describe('workloadFromSample', () => {
  it('gives each partition key its share of the write units, the hottest first', () => {
    // Prepare: 3 of 4 writes to "hot"
    const records = sample([put('hot', '1'), put('hot', '2'), put('hot', '3'), put('cold', '1')]);
    // Act
    const w = workloadFromSample(records);
    // Assess
    expect(w.hotKeys.map((k) => [k.key, k.share])).toEqual([
      ['items/hot', 0.75],
      ['items/cold', 0.25],
    ]);
    expect(w.tailShare).toBeCloseTo(0, 9);
    expect(w.unitsPerWrite).toBe(1);
    expect(w.invalidShare).toBe(0);
  });

  it('splits a sharded partition key over its shards by sort key hash', () => {
    // Prepare
    const records = sample(Array.from({ length: 40 }, (_, i) => put('hot', `s${i}`)));
    const routes = {
      items: {
        tableName: 'items',
        partitionKey: 'pk',
        sortKey: 'sk',
        keyType: 'S' as const,
        ops: ['put' as const, 'delete' as const],
        shards: { hot: { count: 4, by: 'sortKeyHash' as const } },
      },
    };
    // Act
    const w = workloadFromSample(records, { routes });
    // Assess
    expect(w.hotKeys).toHaveLength(4);
    expect(w.hotKeys.every((k) => k.key.startsWith('items/hot#'))).toBe(true);
    expect(w.hotKeys.reduce((s, k) => s + k.share, 0)).toBeCloseTo(1, 9);
    expect(w.hotKeys[0]!.share).toBeLessThan(0.5);
  });

  it('measures coalescing per batch size: none alone, more in larger batches', () => {
    // Prepare: every key written twice in a row
    const records = sample(Array.from({ length: 200 }, (_, i) => put(`k${Math.floor(i / 2)}`, '1')));
    // Act
    const w = workloadFromSample(records);
    // Assess
    expect(duplicateRatioAt(w, 1)).toBe(0);
    expect(duplicateRatioAt(w, 100)).toBeCloseTo(0.5, 9);
    expect(duplicateRatioAt(w, 30)).toBeGreaterThan(0);
  });

  it('counts versioned writes as guarded and invalid messages as rejected', () => {
    // Prepare
    const records = sample([
      put('a', '1', { version: 1 }),
      put('b', '1', { version: 1 }),
      put('c', '1'),
      put('d', '1', { table: 'nope' }),
    ]);
    const routes = {
      items: {
        tableName: 'items',
        partitionKey: 'pk',
        sortKey: 'sk',
        keyType: 'S' as const,
        ops: ['put' as const],
      },
    };
    // Act: the routes know no table "nope": the batch writer dead-letters that message
    const w = workloadFromSample(records, { routes });
    // Assess
    expect(w.guardedShare).toBeCloseTo(2 / 3, 9);
    expect(w.invalidShare).toBe(0.25);
  });

  it('refuses a sample without writes', () => {
    // Act / Assess
    expect(() => workloadFromSample(sample(['{"read":{"key":{"pk":"a","sk":"1"}}}']))).toThrow(
      InvalidWorkloadError,
    );
  });
});
