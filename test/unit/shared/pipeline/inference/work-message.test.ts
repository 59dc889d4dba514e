import { describe, expect, it } from 'vitest';
import {
  encodeJobTraces,
  JOB_TRACES_OVERHEAD_BYTES,
  jobTraceBytes,
  parseJobTraces,
} from '../../../../../shared/pipeline/inference/work-message.ts';
import { traceparentOf } from '../../../../support/fakes/tracing.ts';

describe('job traces (the job-traces attribute of a work message)', () => {
  it('round-trips, index-aligned with the jobs, null for a job without a context', () => {
    // Prepare
    const traces = [
      { traceparent: traceparentOf('a'), tracestate: 'v=1' },
      undefined,
      { traceparent: traceparentOf('b') },
    ];
    // Act
    const text = encodeJobTraces(traces);
    const parsed = parseJobTraces(text, 3);
    // Assess
    expect(parsed).toEqual(traces);
    expect(Buffer.byteLength(text)).toBe(traces.reduce((n, t) => n + jobTraceBytes(t), 0) + 1);
    expect(JOB_TRACES_OVERHEAD_BYTES).toBe('job-traces'.length + 'String'.length + 2);
  });

  it.each([
    ['missing', undefined],
    ['not JSON', '[{'],
    ['not an array', '{"traceparent":"x"}'],
    ['of another length than the jobs', JSON.stringify([{ traceparent: traceparentOf('a') }])],
  ])('gives no job a trace when the value is %s (never fails the message)', (_, text) => {
    // Act
    const parsed = parseJobTraces(text, 2);
    // Assess
    expect(parsed).toEqual([undefined, undefined]);
  });

  it('drops only the entries that are not trace contexts', () => {
    // Act
    const parsed = parseJobTraces(
      JSON.stringify([
        { traceparent: 7 },
        { traceparent: traceparentOf('c') },
        'x',
        { traceparent: 'y'.repeat(300) },
      ]),
      4,
    );
    // Assess
    expect(parsed).toEqual([undefined, { traceparent: traceparentOf('c') }, undefined, undefined]);
  });
});
