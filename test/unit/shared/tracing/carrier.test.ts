import { ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { suppressTracing, TraceState } from '@opentelemetry/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  awsTraceHeaderOf,
  extractSpanContext,
  formatAwsTraceHeader,
  injectW3C,
  lambdaRecordCarrier,
  parseAwsTraceHeader,
  sdkMessageCarrier,
  w3cOf,
} from '../../../../shared/tracing/index.ts';
import { sqsRecord } from '../../../support/factories/sqs.ts';
import { contextWith, remoteSpanContext, traceparentOf } from '../../../support/fakes/tracing.ts';

const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

describe('extractSpanContext', () => {
  it('reads a traceparent and its tracestate as a remote span context', () => {
    // Act
    const extracted = extractSpanContext({ traceparent: traceparentOf('a'), tracestate: 'ven=x,other=y' });
    // Assess
    expect(extracted).toMatchObject({
      traceId: 'a'.repeat(32),
      spanId: 'a'.repeat(16),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(extracted?.traceState?.serialize()).toBe('ven=x,other=y');
  });

  it.each([
    ['garbage', 'not a traceparent'],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${'a'.repeat(16)}-01`],
    ['an all-zero span id', `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`],
    ['the forbidden version ff', `ff-${'a'.repeat(32)}-${'a'.repeat(16)}-01`],
    ['uppercase hex', `00-${'A'.repeat(32)}-${'a'.repeat(16)}-01`],
    ['a short trace id', `00-${'a'.repeat(31)}-${'a'.repeat(16)}-01`],
    ['extra fields on version 00', `${traceparentOf('a')}-extra`],
    ['an empty value', ''],
  ])('ignores a traceparent with %s (no context, no error)', (_, traceparent) => {
    // Act
    const extracted = extractSpanContext({ traceparent });
    // Assess
    expect(extracted).toBeUndefined();
  });

  it('honours an AWSTraceHeader when there is no traceparent: the X-Ray id is the 32-hex trace id', () => {
    // Act
    const extracted = extractSpanContext({ awsTraceHeader: XRAY });
    // Assess
    expect(extracted).toEqual({
      traceId: '5759e988bd862e3fe1be46a994272793',
      spanId: '53995c3f42cd8ad8',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it('prefers a valid traceparent over an AWSTraceHeader, and falls back to it when the traceparent is malformed', () => {
    // Act
    const both = extractSpanContext({ traceparent: traceparentOf('b'), awsTraceHeader: XRAY });
    const fallback = extractSpanContext({ traceparent: 'bad', awsTraceHeader: XRAY });
    // Assess
    expect(both?.traceId).toBe('b'.repeat(32));
    expect(fallback?.traceId).toBe('5759e988bd862e3fe1be46a994272793');
  });

  it('reads Lambda records and SDK messages alike', () => {
    // Prepare
    const record = {
      ...sqsRecord('{}'),
      messageAttributes: {
        traceparent: {
          dataType: 'String',
          stringValue: traceparentOf('c'),
          stringListValues: [],
          binaryListValues: [],
        },
      },
    };
    const message = {
      MessageAttributes: { traceparent: { DataType: 'String', StringValue: traceparentOf('d') } },
      Attributes: { AWSTraceHeader: XRAY },
    };
    // Act
    const fromRecord = extractSpanContext(lambdaRecordCarrier(record));
    const fromMessage = extractSpanContext(sdkMessageCarrier(message));
    const fromHeaderOnly = extractSpanContext(sdkMessageCarrier({ Attributes: { AWSTraceHeader: XRAY } }));
    // Assess
    expect(fromRecord?.traceId).toBe('c'.repeat(32));
    expect(fromMessage?.traceId).toBe('d'.repeat(32));
    expect(fromHeaderOnly?.spanId).toBe('53995c3f42cd8ad8');
  });
});

describe('parseAwsTraceHeader', () => {
  it('accepts the keys in any order and case, ignores others, and reads Sampled=0, ? or none as not sampled', () => {
    // Act
    const reordered = parseAwsTraceHeader(
      'Sampled=1;Lineage=a87bd80c:1|68fd508a:5;parent=53995C3F42CD8AD8;ROOT=1-5759e988-bd862e3fe1be46a994272793',
    );
    const unsampled = ['Sampled=0', 'Sampled=?', ''].map(
      (s) =>
        parseAwsTraceHeader(`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;${s}`)
          ?.traceFlags,
    );
    // Assess
    expect(reordered).toMatchObject({ spanId: '53995c3f42cd8ad8', traceFlags: TraceFlags.SAMPLED });
    expect(unsampled).toEqual([TraceFlags.NONE, TraceFlags.NONE, TraceFlags.NONE]);
  });

  it.each([
    ['no Parent (nothing to link to)', 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1'],
    ['no Root', 'Parent=53995c3f42cd8ad8;Sampled=1'],
    ['a Root of another version', 'Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8'],
    ['a short Root', 'Root=1-5759e98-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8'],
    ['a non-hex Parent', 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8adz'],
    ['an all-zero Root', `Root=1-00000000-${'0'.repeat(24)};Parent=53995c3f42cd8ad8`],
    ['no key=value pairs at all', 'garbage'],
    ['a header far too long', `${XRAY};${'x'.repeat(2000)}`],
  ])('refuses %s', (_, header) => {
    // Act
    const parsed = parseAwsTraceHeader(header);
    // Assess
    expect(parsed).toBeUndefined();
  });

  it('round-trips every span context through formatAwsTraceHeader', () => {
    const hex = (length: number) =>
      fc
        .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
        .filter((s) => /[1-9a-f]/.test(s));
    fc.assert(
      fc.property(hex(32), hex(16), fc.boolean(), (traceId, spanId, sampled) => {
        // Prepare
        const spanContext = {
          traceId,
          spanId,
          traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
          isRemote: true,
        };
        // Act
        const parsed = parseAwsTraceHeader(formatAwsTraceHeader(spanContext));
        // Assess
        expect(parsed).toEqual(spanContext);
      }),
    );
  });
});

describe('injectW3C', () => {
  it('writes the traceparent (and tracestate) of a context holding a span, nothing for one without', () => {
    // Prepare
    const spanContext = { ...remoteSpanContext('e'), traceState: new TraceState('ven=1') };
    // Act
    const injected = injectW3C(contextWith(spanContext));
    const none = injectW3C(ROOT_CONTEXT);
    const suppressed = injectW3C(suppressTracing(contextWith(spanContext)));
    // Assess
    expect(injected).toEqual({ traceparent: traceparentOf('e'), tracestate: 'ven=1' });
    expect(none).toBeUndefined();
    expect(suppressed).toBeUndefined();
    expect(awsTraceHeaderOf(suppressTracing(contextWith(spanContext)))).toBeUndefined();
  });

  it('turns an AWSTraceHeader into the traceparent naming the same span', () => {
    // Prepare
    const fromXray = extractSpanContext({ awsTraceHeader: XRAY })!;
    // Act
    const w3c = w3cOf(fromXray);
    // Assess
    expect(w3c).toEqual({ traceparent: '00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01' });
    expect(awsTraceHeaderOf(contextWith(fromXray))).toBe(XRAY);
  });
});
