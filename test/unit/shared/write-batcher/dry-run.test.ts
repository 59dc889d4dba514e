import { describe, expect, it } from 'vitest';
import { dryRun } from '../../../../shared/write-batcher/index.ts';
import { del, put } from '../../../support/factories/writes.ts';

describe('dryRun', () => {
  it('coalesces and sizes a batch as writeAll would, without sending', () => {
    // Prepare: `a` twice (coalesced), a 2,000-byte `b`, an oversized `c`.
    const requests = [
      put('a', { n: 1 }),
      put('a', { n: 2 }),
      put('b', { data: 'x'.repeat(2000) }),
      put('c', { data: 'x'.repeat(410_000) }),
    ];
    // Act
    const result = dryRun(requests);
    // Assess
    expect(result.coalesced).toBe(1);
    expect(result.rejected.map((r) => [r.index, r.error.code])).toEqual([[3, 'ITEM_TOO_LARGE']]);
    expect(result.writes.map((w) => [w.index, w.partitionKeyValue, w.sortKeyValue, w.kind])).toEqual([
      [1, 'a', '1', 'put'],
      [2, 'b', '1', 'put'],
    ]);
    // "pk" 2 + "a" 1 + "sk" 2 + "1" 1 + "n" 1 + 2 (number 2: one digit) = 9 bytes.
    expect(result.writes[0]!.itemBytes).toBe(9);
    expect(result.writes.map((w) => w.writeUnits)).toEqual([1, 2]);
    expect(result.requests).toEqual({ batchWrite: 1, guarded: 0 });
  });

  it('charges guarded writes twice in transactions, once as conditional puts', () => {
    const requests = [put('a', {}, { version: 1 }), del('b', { version: 2 })];
    const transactions = dryRun(requests, { now: 0 });
    const conditional = dryRun(requests, { versionedWrites: 'conditional-put', now: 0 });
    expect(transactions.writes.map((w) => [w.kind, w.writeUnits])).toEqual([
      ['guardedPut', 2],
      ['guardedPut', 2],
    ]);
    expect(conditional.writes.map((w) => w.writeUnits)).toEqual([1, 1]);
    expect([transactions.requests.guarded, conditional.requests.guarded]).toEqual([1, 2]);
  });

  it('coalesces only within a scope', () => {
    const result = dryRun([
      put('a', {}, { scope: 'g1' }),
      put('a', {}, { scope: 'g2' }),
      put('a', {}, { scope: 'g1' }),
    ]);
    expect(result.coalesced).toBe(1);
    // The two writes of one item go in two rounds: two BatchWriteItem requests.
    expect(result.requests.batchWrite).toBe(2);
  });
});
