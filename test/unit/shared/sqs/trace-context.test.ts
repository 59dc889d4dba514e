import type { SendMessageBatchCommand, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  entryBytes,
  InvalidOptionError,
  type SendEntry,
  SqsBatchSender,
  sqsLimits,
  TooManyMessageAttributesError,
} from '../../../../shared/sqs/index.ts';
import { withTraceContext } from '../../../../shared/sqs/trace-context.ts';
import {
  contextWith,
  memoryTracing,
  remoteSpanContext,
  traceparentOf,
} from '../../../support/fakes/tracing.ts';

const ctx = contextWith({ ...remoteSpanContext('a'), traceState: new TraceState('ven=1') });
const XRAY_A = `Root=1-${'a'.repeat(8)}-${'a'.repeat(24)};Parent=${'a'.repeat(16)};Sampled=1`;
const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
const withAttributes = (n: number): SendEntry => ({
  body: '{}',
  messageAttributes: Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, attribute('x')])),
});

describe('withTraceContext', () => {
  it('adds nothing when the context holds no span: a producer without tracing sends what it was given', () => {
    // Prepare
    const entry = withAttributes(2);
    // Act
    const traced = withTraceContext(entry, ROOT_CONTEXT, sqsLimits.maxMessageBytes);
    // Assess
    expect(traced).toBe(entry);
  });

  it('puts traceparent and tracestate in message attributes, beside the caller’s own', () => {
    // Act
    const traced = withTraceContext(withAttributes(1), ctx, sqsLimits.maxMessageBytes);
    // Assess
    expect(traced.messageAttributes).toEqual({
      a0: attribute('x'),
      traceparent: attribute(traceparentOf('a')),
      tracestate: attribute('ven=1'),
    });
    expect(traced.awsTraceHeader).toBeUndefined();
  });

  it('keeps to SQS’s 10 attributes: traceparent alone with one free, AWSTraceHeader with none', () => {
    // Act
    const oneFree = withTraceContext(withAttributes(9), ctx, sqsLimits.maxMessageBytes);
    const full = withTraceContext(withAttributes(10), ctx, sqsLimits.maxMessageBytes);
    // Assess
    expect(Object.keys(oneFree.messageAttributes!)).toHaveLength(10);
    expect(oneFree.messageAttributes!.traceparent).toEqual(attribute(traceparentOf('a')));
    expect(oneFree.messageAttributes!.tracestate).toBeUndefined();
    expect(Object.keys(full.messageAttributes!)).toHaveLength(10);
    expect(full.awsTraceHeader).toBe(XRAY_A);
  });

  it('falls back to AWSTraceHeader (outside the size limit) for a message the attributes would make too large', () => {
    // Prepare
    const entry: SendEntry = { body: 'x'.repeat(1000) };
    const limit = entryBytes(entry) + 40;
    // Act
    const traced = withTraceContext(entry, ctx, limit);
    // Assess
    expect(traced).toEqual({ ...entry, awsTraceHeader: XRAY_A });
  });

  it('keeps a traceparent or AWSTraceHeader the caller set', () => {
    // Prepare
    const own: SendEntry = { body: '{}', messageAttributes: { traceparent: attribute(traceparentOf('b')) } };
    const ownHeader: SendEntry = { body: '{}', awsTraceHeader: 'Root=1-00000001-000000000000000000000001' };
    // Act
    const traced = [withTraceContext(own, ctx, 1_000), withTraceContext(ownHeader, ctx, 1_000)];
    // Assess
    expect(traced).toEqual([own, ownHeader]);
  });
});

/** An SQS client that accepts every entry and keeps the requests. */
function capturingClient() {
  const entries: SendMessageBatchRequestEntry[] = [];
  const client = {
    send: async (command: SendMessageBatchCommand) => {
      entries.push(...(command.input.Entries ?? []));
      return { Successful: (command.input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })) };
    },
    destroy: () => undefined,
  } as unknown as SQSClient;
  return { client, entries };
}

describe('SqsBatchSender and trace context', () => {
  const queueUrl = 'http://127.0.0.1:9/123456789012/q';
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('sends the context active when a message is enqueued, and nothing outside a span', async () => {
    // Prepare
    const memory = await memoryTracing();
    close = () => memory.close();
    const { client, entries } = capturingClient();
    const sender = new SqsBatchSender({ queueUrl, client, maxDelayMs: 0 });
    // Act
    const spanId = await memory.tracing.tracer.startActiveSpan('produce', async (span) => {
      await sender.enqueue({ body: 'in-span' });
      span.end();
      return span.spanContext();
    });
    await sender.enqueue({ body: 'outside' });
    await sender.close();
    // Assess
    const [inSpan, outside] = entries;
    expect(inSpan!.MessageAttributes?.traceparent?.StringValue).toBe(
      `00-${spanId.traceId}-${spanId.spanId}-01`,
    );
    expect(outside!.MessageAttributes).toBeUndefined();
    expect(outside!.MessageSystemAttributes).toBeUndefined();
  });

  it('sends the AWSTraceHeader as a system attribute, and a fixed context when given one', async () => {
    // Prepare
    const { client, entries } = capturingClient();
    const fixed = new SqsBatchSender({ queueUrl, client, maxDelayMs: 0, traceContext: ctx });
    // Act
    await fixed.enqueue(withAttributes(10));
    await fixed.close();
    // Assess
    expect(entries[0]!.MessageSystemAttributes).toEqual({ AWSTraceHeader: attribute(XRAY_A) });
    expect(Object.keys(entries[0]!.MessageAttributes ?? {})).toHaveLength(10);
  });

  it('sends no context with traceContext false, even inside a span', async () => {
    // Prepare
    const { client, entries } = capturingClient();
    const sender = new SqsBatchSender({ queueUrl, client, maxDelayMs: 0, traceContext: false });
    const memory = await memoryTracing();
    close = () => memory.close();
    // Act
    await memory.tracing.tracer.startActiveSpan('produce', async (span) => {
      await sender.enqueue({ body: 'x' });
      span.end();
    });
    await sender.close();
    // Assess
    expect(entries[0]!.MessageAttributes).toBeUndefined();
  });

  it('refuses a message with more than 10 attributes before sending, naming them', async () => {
    // Prepare
    const { client, entries } = capturingClient();
    const sender = new SqsBatchSender({ queueUrl, client, maxDelayMs: 0 });
    // Act
    const sent = sender.send(withAttributes(11));
    // Assess
    await expect(sent).rejects.toThrow(TooManyMessageAttributesError);
    await expect(sent).rejects.toMatchObject({ code: 'TOO_MANY_ATTRIBUTES', limit: 10 });
    await expect(sent).rejects.toThrow(/11 message attributes \("a0", "a1",/);
    await sender.close();
    expect(entries).toEqual([]);
  });

  it('refuses a traceContext that is neither a boolean nor a Context', () => {
    // Act
    const create = () => new SqsBatchSender({ queueUrl, traceContext: 'yes' as never });
    // Assess
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(/traceContext: got 'yes'; use true, false or an OpenTelemetry Context/);
  });
});
