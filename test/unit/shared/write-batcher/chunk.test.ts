import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkWrites } from '../../../../shared/write-batcher/chunk.ts';
import { planWrites } from '../../../../shared/write-batcher/plan.ts';
import { put, versioning } from '../../../support/factories/writes.ts';

describe('chunkWrites', () => {
  it('fills chunks to 25 requests', () => {
    const plan = planWrites(
      Array.from({ length: 60 }, (_, i) => put(`k${i}`)),
      versioning,
    );
    const rounds = chunkWrites(plan.writes);
    expect(rounds).toHaveLength(1);
    expect(rounds[0]!.map((c) => c.length)).toEqual([25, 25, 10]);
  });

  it('starts a new chunk before the byte budget would be exceeded', () => {
    const plan = planWrites(
      Array.from({ length: 5 }, (_, i) => put(`k${i}`, { blob: 'x'.repeat(1000) })),
      versioning,
    );
    const rounds = chunkWrites(plan.writes, 25, 2500);
    expect(rounds[0]!.map((c) => c.length)).toEqual([2, 2, 1]);
  });

  it('never puts one item twice in a round, even across scopes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('g1', 'g2', 'g3')), {
          maxLength: 80,
        }),
        (pairs) => {
          const plan = planWrites(
            pairs.map(([k, g]) => put(k, {}, { scope: g })),
            versioning,
          );
          const rounds = chunkWrites(plan.writes);
          let total = 0;
          for (const round of rounds) {
            const keys = round.flat().map((w) => w.itemKey);
            expect(new Set(keys).size).toBe(keys.length);
            for (const chunk of round) expect(chunk.length).toBeLessThanOrEqual(25);
            total += keys.length;
          }
          expect(total).toBe(plan.writes.length);
        },
      ),
    );
  });
});
