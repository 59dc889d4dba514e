import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyTooLongError } from '../../../../shared/write-batcher/errors.ts';
import { planWrites } from '../../../../shared/write-batcher/plan.ts';
import { del, put, versioning } from '../../../support/factories/writes.ts';

describe('planWrites', () => {
  it('keeps the last write per key in arrival order when no versions are given', () => {
    // Prepare
    const requests = [put('a', { n: 1 }), put('b'), put('a', { n: 2 }), del('a')];
    // Act
    const plan = planWrites(requests, versioning);
    // Assess
    expect(plan.writes.map((w) => w.index).sort()).toEqual([1, 3]);
    expect(Array.from(plan.carrier)).toEqual([3, 1, 3, 3]);
  });

  it('lets the highest version win regardless of arrival order', () => {
    const requests = [put('a', { n: 9 }, { version: 9 }), put('a', { n: 3 }, { version: 3 })];
    const plan = planWrites(requests, versioning);
    expect(plan.writes).toHaveLength(1);
    expect(plan.writes[0]!.index).toBe(0);
    expect(Array.from(plan.carrier)).toEqual([0, 0]);
  });

  it('coalesces only within one scope (FIFO message group)', () => {
    const plan = planWrites([put('a', {}, { scope: 'g1' }), put('a', {}, { scope: 'g2' })], versioning);
    expect(plan.writes).toHaveLength(2);
  });

  it('rejects a partition key longer than 2048 bytes before sending', () => {
    const plan = planWrites([put('x'.repeat(2049)), put('ok')], versioning);
    expect(plan.rejected.get(0)).toBeInstanceOf(KeyTooLongError);
    expect(plan.writes.map((w) => w.index)).toEqual([1]);
  });

  it('rejects items over 400 KB and never lets them supersede a valid write', () => {
    const plan = planWrites([put('a', { v: 'ok' }), put('a', { blob: 'x'.repeat(410 * 1024) })], versioning);
    expect(plan.rejected.get(1)?.code).toBe('ITEM_TOO_LARGE');
    expect(plan.writes.map((w) => w.index)).toEqual([0]);
  });

  it('rejects items nested deeper than 32 levels', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 33; i++) deep = { d: deep };
    const plan = planWrites([put('a', { deep })], versioning);
    expect(plan.rejected.get(0)?.code).toBe('NESTING_TOO_DEEP');
  });

  it('turns a versioned delete into a tombstone that carries the version and a TTL', () => {
    const now = Date.UTC(2026, 0, 1);
    const plan = planWrites([del('a', { version: 4 })], versioning, now);
    const write = plan.writes[0]!;
    expect(write.kind).toBe('guardedPut');
    expect(write.attributes._version).toEqual({ N: '4' });
    expect(write.attributes._deleted).toEqual({ BOOL: true });
    expect(Number(write.attributes._expiresAt?.N)).toBeGreaterThan(now / 1000 + 14 * 86_400);
  });

  it('gives every input exactly one carrier, and never sends one key twice per scope', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.constantFrom('a', 'b', 'c', 'd'),
            op: fc.constantFrom('put', 'delete'),
            version: fc.option(fc.nat(20), { nil: undefined }),
          }),
          { maxLength: 60 },
        ),
        (specs) => {
          const requests = specs.map((s) =>
            s.op === 'put' ? put(s.key, {}, { version: s.version }) : del(s.key, { version: s.version }),
          );
          const plan = planWrites(requests, versioning);
          const keys = plan.writes.map((w) => w.itemKey);
          expect(new Set(keys).size).toBe(keys.length);
          const sent = new Set(plan.writes.map((w) => w.index));
          for (let i = 0; i < requests.length; i++) {
            expect(sent.has(plan.carrier[i]!)).toBe(true);
            expect(plan.writes.find((w) => w.index === plan.carrier[i])!.itemKey).toContain(specs[i]!.key);
          }
          // When every write to a key is versioned, the highest version carries them all.
          for (const key of new Set(specs.map((s) => s.key))) {
            const same = specs.map((s, i) => ({ ...s, i })).filter((s) => s.key === key);
            if (same.every((s) => s.version !== undefined)) {
              const max = Math.max(...same.map((s) => s.version!));
              expect(specs[plan.carrier[same[0]!.i]!]!.version).toBe(max);
            }
          }
        },
      ),
    );
  });
});
