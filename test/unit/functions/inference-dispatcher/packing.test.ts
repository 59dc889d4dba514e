import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packWorkMessages } from '../../../../functions/inference-dispatcher/packing.ts';
import {
  encodeJobTraces,
  encodeWorkMessage,
  JOB_TRACES_OVERHEAD_BYTES,
  type JobTrace,
  parseWorkMessage,
} from '../../../../shared/pipeline/inference/work-message.ts';
import { workJob } from '../../../support/fakes/inference.ts';
import { traceparentOf } from '../../../support/fakes/tracing.ts';

describe('packWorkMessages', () => {
  it('keeps model versions apart and fills messages up to maxJobs', () => {
    // Prepare
    const items = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({
      job: { ...workJob(id), modelVersion: i % 2 === 0 ? '1' : '2' },
      owner: id,
    }));
    // Act
    const messages = packWorkMessages(items, { maxJobs: 2 });
    // Assess
    expect(messages.map((m) => m.owners)).toEqual([['a', 'c'], ['e'], ['b', 'd']]);
    for (const m of messages) expect(parseWorkMessage('m', m.body).jobs).toEqual(m.jobs);
  });

  it('starts a new message when the byte budget would be exceeded, and sends a larger job alone', () => {
    // Prepare
    const small = (id: string) => ({ job: workJob(id), owner: id });
    const big = {
      job: workJob(
        'big',
        Array.from({ length: 4 }, () => 0.123456789),
      ),
      owner: 'big',
    };
    const budget = Buffer.byteLength(JSON.stringify(workJob('a'))) * 2 + 20;
    // Act
    const messages = packWorkMessages([small('a'), small('b'), big, small('c')], {
      maxJobs: 16,
      maxBytes: budget,
    });
    // Assess
    expect(messages.map((m) => m.owners)).toEqual([['a', 'b'], ['big'], ['c']]);
  });

  it('puts every job in exactly one message, in order within its model version, within the limits', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ version: fc.constantFrom('1', '2', '3'), size: fc.integer({ min: 1, max: 40 }) }),
          {
            maxLength: 60,
          },
        ),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 200, max: 2_000 }),
        (specs, maxJobs, maxBytes) => {
          // Prepare
          const items = specs.map((s, i) => ({
            job: {
              ...workJob(
                `j${i}`,
                Array.from({ length: 4 }, () => s.size),
              ),
              modelVersion: s.version,
            },
            owner: i,
          }));
          // Act
          const messages = packWorkMessages(items, { maxJobs, maxBytes });
          // Assess
          const owners = messages.flatMap((m) => m.owners);
          expect([...owners].sort((a, b) => a - b)).toEqual(items.map((i) => i.owner));
          for (const m of messages) {
            expect(m.jobs.length).toBeLessThanOrEqual(maxJobs);
            expect(new Set(m.jobs.map((j) => j.modelVersion)).size).toBe(1);
            if (m.jobs.length > 1) expect(Buffer.byteLength(m.body)).toBeLessThanOrEqual(maxBytes);
            expect([...m.owners]).toEqual([...m.owners].sort((a, b) => a - b));
          }
        },
      ),
    );
  });

  it('counts the job traces in the byte budget, so body and attribute together stay within it', () => {
    // Prepare
    const trace = { traceparent: traceparentOf('a'), tracestate: 'x'.repeat(200) };
    const items = ['a', 'b', 'c', 'd'].map((id) => ({ job: workJob(id), owner: id, trace }));
    const size = (body: string, traces?: readonly (JobTrace | undefined)[]) =>
      Buffer.byteLength(body) +
      (traces ? Buffer.byteLength(encodeJobTraces(traces)) + JOB_TRACES_OVERHEAD_BYTES - 2 : 0);
    const maxBytes = size(encodeWorkMessage([workJob('a')]), [trace]) + 50; // one traced job, not two
    // Act
    const messages = packWorkMessages(items, { maxBytes });
    const untraced = packWorkMessages(
      items.map(({ job, owner }) => ({ job, owner })),
      { maxBytes },
    );
    // Assess
    expect(messages.map((m) => m.owners)).toEqual([['a'], ['b'], ['c'], ['d']]);
    for (const m of messages) {
      expect(m.traces).toEqual([trace]);
      expect(size(m.body, m.traces)).toBeLessThanOrEqual(maxBytes);
    }
    expect(untraced.map((m) => m.owners)).toEqual([['a', 'b', 'c', 'd']]);
    expect(untraced[0]!.traces).toBeUndefined();
  });
});
