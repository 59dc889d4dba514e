import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generateWorkload,
  keySampler,
  sizedItem,
  type WorkloadMessage,
  type WorkloadOptions,
} from '../../../../../shared/cli/send/workload.ts';
import { parseMessage } from '../../../../../shared/contract/message.ts';
import { mulberry32 } from '../../../../../shared/core/random.ts';
import { Router } from '../../../../../shared/pipeline/routing.ts';

const base: WorkloadOptions = {
  count: 500,
  keys: 20,
  keyDistribution: { kind: 'uniform' },
  itemBytes: 120,
  versions: false,
  shuffleVersions: false,
  invalidRate: 0,
  seed: 7,
};
const router = new Router({
  items: {
    tableName: 'items-table',
    partitionKey: 'pk',
    sortKey: 'sk',
    keyType: 'S',
    ops: ['put', 'delete'],
  },
});

const options = fc.record({
  count: fc.integer({ min: 0, max: 300 }),
  keys: fc.integer({ min: 1, max: 50 }),
  keyDistribution: fc.oneof(
    fc.constant({ kind: 'uniform' as const }),
    fc.double({ min: 0, max: 3, noNaN: true }).map((s) => ({ kind: 'zipf' as const, s })),
  ),
  itemBytes: fc.integer({ min: 1, max: 400 }),
  versions: fc.boolean(),
  shuffleVersions: fc.boolean(),
  shuffleWindow: fc.integer({ min: 1, max: 64 }),
  invalidRate: fc.double({ min: 0, max: 1, noNaN: true }),
  seed: fc.nat(),
});

function versionsByKey(messages: WorkloadMessage[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (const m of messages) {
    if (!m.valid) continue;
    const list = byKey.get(m.key) ?? [];
    list.push(m.message.version!);
    byKey.set(m.key, list);
  }
  return byKey;
}

describe('generateWorkload', () => {
  it('yields count messages, indexed in order, each valid one accepted by the batch writer', () => {
    fc.assert(
      fc.property(options, (o) => {
        // Act
        const messages = [...generateWorkload(o)];
        // Assess
        expect(messages.map((m) => m.index)).toEqual(messages.map((_, i) => i));
        for (const m of messages.filter((x) => x.valid)) {
          const parsed = parseMessage(JSON.stringify(m.message));
          expect(() => router.toWriteRequest(parsed)).not.toThrow();
          expect(parsed.op === 'put' && parsed.item.pk).toBe(m.key);
        }
        expect(messages).toHaveLength(o.count);
      }),
      { numRuns: 40 },
    );
  });

  it('makes every invalid message one the batch writer rejects', () => {
    fc.assert(
      fc.property(options, (o) => {
        for (const m of generateWorkload({ ...o, invalidRate: 1 })) {
          expect(m.valid).toBe(false);
          if (m.valid) continue;
          expect(() => router.toWriteRequest(parseMessage(m.body))).toThrow(
            m.kind === 'unknown-table' ? 'is not routed' : /op|version/,
          );
        }
      }),
      { numRuns: 40 },
    );
  });

  it('numbers each key’s versions 1..n, in order unless shuffled', () => {
    fc.assert(
      fc.property(options, (o) => {
        // Act
        const byKey = versionsByKey([...generateWorkload({ ...o, versions: true })]);
        // Assess
        for (const versions of byKey.values()) {
          const sorted = [...versions].sort((a, b) => a - b);
          expect(sorted).toEqual(sorted.map((_, i) => i + 1));
          if (!o.shuffleVersions) expect(versions).toEqual(sorted);
        }
      }),
    );
  });

  it('delivers some versions out of order when shuffled', () => {
    // Prepare
    const shuffled = {
      ...base,
      count: 2000,
      keys: 5,
      versions: true,
      shuffleVersions: true,
      shuffleWindow: 50,
    };
    // Act
    const byKey = versionsByKey([...generateWorkload(shuffled)]);
    // Assess
    const inversions = [...byKey.values()].filter((v) => v.some((x, i) => i > 0 && x < v[i - 1]!));
    expect(inversions.length).toBeGreaterThan(0);
  });

  it('gives the same messages for the same seed', () => {
    const a = [...generateWorkload({ ...base, invalidRate: 0.2, versions: true, shuffleVersions: true })];
    const b = [...generateWorkload({ ...base, invalidRate: 0.2, versions: true, shuffleVersions: true })];
    expect(a).toEqual(b);
  });

  it('sends about the requested fraction of invalid messages, of every kind', () => {
    // Act
    const messages = [...generateWorkload({ ...base, count: 10_000, invalidRate: 0.1 })];
    // Assess
    const invalid = messages.filter((m) => !m.valid);
    expect(invalid.length).toBeGreaterThan(800);
    expect(invalid.length).toBeLessThan(1200);
    expect(new Set(invalid.map((m) => (m.valid ? '' : m.kind)))).toEqual(
      new Set(['shape', 'unknown-table', 'version']),
    );
  });

  it('names the logical table when given one', () => {
    const [first] = [...generateWorkload({ ...base, count: 1, table: 'orders' })];
    expect(first?.valid && first.message.table).toBe('orders');
  });
});

describe('sizedItem', () => {
  it('pads the item JSON to exactly the requested bytes, or leaves it unpadded when it is larger', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.string(), (bytes, pk) => {
        const item = sizedItem({ pk, sk: 'item', seq: 1 }, bytes);
        const unpadded = Buffer.byteLength(JSON.stringify({ pk, sk: 'item', seq: 1, data: '' }));
        expect(Buffer.byteLength(JSON.stringify(item))).toBe(Math.max(bytes, unpadded));
      }),
    );
  });
});

describe('keySampler', () => {
  it('draws ranks within 0..keys-1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        fc.nat(),
        (keys, s, seed) => {
          const draw = keySampler(keys, { kind: 'zipf', s }, mulberry32(seed));
          for (let i = 0; i < 50; i++) {
            const rank = draw();
            expect(Number.isInteger(rank) && rank >= 0 && rank < keys).toBe(true);
          }
        },
      ),
    );
  });

  it('makes rank 0 the hottest key under zipf, about 1/H(n) of draws for s = 1', () => {
    // Prepare
    const keys = 100;
    const draw = keySampler(keys, { kind: 'zipf', s: 1 }, mulberry32(42));
    const counts = new Array<number>(keys).fill(0);
    // Act
    for (let i = 0; i < 50_000; i++) counts[draw()]!++;
    // Assess: H(100) ≈ 5.187, so rank 0 gets ≈ 19.3 %, rank 1 ≈ 9.6 %.
    expect(counts[0]! / 50_000).toBeCloseTo(0.193, 1);
    expect(counts[0]!).toBeGreaterThan(counts[1]!);
    expect(counts[1]!).toBeGreaterThan(counts[9]!);
  });

  it('spreads uniform draws evenly', () => {
    const draw = keySampler(10, { kind: 'uniform' }, mulberry32(3));
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[draw()]!++;
    for (const c of counts) expect(c / 20_000).toBeCloseTo(0.1, 1);
  });
});
