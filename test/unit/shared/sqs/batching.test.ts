import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BatchCandidate, selectBatch } from '../../../../shared/sqs/batching.ts';
import { sqsLimits } from '../../../../shared/sqs/limits.ts';

const limits = { maxEntries: sqsLimits.maxBatchEntries, maxBytes: sqsLimits.maxRequestBytes };
const KIB = 1024;

const candidate = fc.record({
  bytes: fc.oneof(
    fc.integer({ min: 1, max: 2 * KIB }),
    fc.integer({ min: 1, max: sqsLimits.maxMessageBytes }),
  ),
  group: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }),
});
const queue = fc.array(candidate, { maxLength: 40 });

describe('selectBatch', () => {
  it('never passes 10 entries or 1 MiB, and takes entries oldest first', () => {
    fc.assert(
      fc.property(queue, (q) => {
        // Act
        const { indices, bytes } = selectBatch(q, limits);
        // Assess
        expect(indices.length).toBeLessThanOrEqual(10);
        expect(bytes).toBeLessThanOrEqual(sqsLimits.maxRequestBytes);
        expect(bytes).toBe(indices.reduce((sum, i) => sum + q[i]!.bytes, 0));
        expect(indices).toEqual(indices.map((_, i) => i)); // a prefix: nothing overtakes
      }),
    );
  });

  it('is full exactly when no further entry could join', () => {
    fc.assert(
      fc.property(queue, (q) => {
        const { indices, bytes, full } = selectBatch(q, limits);
        const next = q[indices.length];
        const couldGrow = next !== undefined && indices.length < 10 && bytes + next.bytes <= limits.maxBytes;
        expect(full).toBe(indices.length === 10 || (next !== undefined && !couldGrow));
        if (!full) expect(indices.length).toBe(q.length);
      }),
    );
  });

  it('skips FIFO groups with a request in flight and takes each group’s oldest entries', () => {
    fc.assert(
      fc.property(queue, fc.subarray(['a', 'b', 'c', 'd']), (q, blocked) => {
        // Act
        const { indices, bytes } = selectBatch(q, limits, new Set(blocked));
        // Assess
        expect(indices.length).toBeLessThanOrEqual(10);
        expect(bytes).toBeLessThanOrEqual(sqsLimits.maxRequestBytes);
        expect(indices).toEqual([...indices].sort((a, b) => a - b));
        for (const i of indices) expect(blocked).not.toContain(q[i]!.group);
        // Per group, the chosen entries are that group's oldest ones: nothing of a group is skipped.
        const chosen = new Set(indices);
        for (const group of new Set(indices.map((i) => q[i]!.group))) {
          const positions = q.flatMap((c, i) => (c.group === group ? [i] : []));
          const taken = positions.filter((i) => chosen.has(i));
          expect(taken).toEqual(positions.slice(0, taken.length));
        }
        // The oldest unblocked entry always leads.
        const oldest = q.findIndex((c) => c.group === undefined || !blocked.includes(c.group));
        if (oldest >= 0) expect(indices[0]).toBe(oldest);
      }),
    );
  });

  it('fills a FIFO batch group by group, so that other groups stay free for parallel requests', () => {
    // Prepare: groups interleaved a, b, c, a, b, c…
    const q: BatchCandidate[] = Array.from({ length: 30 }, (_, i) => ({ bytes: 100, group: 'abc'[i % 3] }));
    // Act
    const first = selectBatch(q, limits, new Set());
    const second = selectBatch(q, limits, new Set(['a']));
    // Assess
    expect(first.indices.map((i) => q[i]!.group)).toEqual([...'aaaaaaaaaa']);
    expect(second.indices.map((i) => q[i]!.group)).toEqual([...'bbbbbbbbbb']);
  });

  it('packs 200 KiB messages five to a request', () => {
    // Prepare
    const q: BatchCandidate[] = Array.from({ length: 12 }, () => ({ bytes: 200 * KIB }));
    // Act
    const selection = selectBatch(q, limits);
    // Assess
    expect(selection).toEqual({ indices: [0, 1, 2, 3, 4], bytes: 1000 * KIB, full: true });
  });
});
