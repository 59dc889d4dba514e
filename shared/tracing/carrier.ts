import {
  type Context,
  context,
  diag,
  isSpanContextValid,
  ROOT_CONTEXT,
  type SpanContext,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { parseTraceParent, TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import { formatAwsTraceHeader, parseAwsTraceHeader } from './xray.ts';

/** The message attribute names of W3C Trace Context, as on HTTP (`traceparent`, `tracestate`). */
export const TRACEPARENT_ATTRIBUTE = 'traceparent';
export const TRACESTATE_ATTRIBUTE = 'tracestate';
/** The SQS system attribute X-Ray's SDKs (and Lambda's active tracing) set. */
export const AWS_TRACE_HEADER_ATTRIBUTE = 'AWSTraceHeader';

/** W3C Trace Context as it travels with one message: `traceparent` and, optionally, `tracestate`. */
export interface W3CTraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** What a received message may carry: the W3C pair (message attributes) and X-Ray's header. */
export interface TraceCarrier {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
  /** The `AWSTraceHeader` system attribute; used only when there is no valid `traceparent`. */
  readonly awsTraceHeader?: string | undefined;
}

const w3c = new W3CTraceContextPropagator();

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * The remote span context a message carries: its `traceparent` (with `tracestate`), else its
 * `AWSTraceHeader`, else none. Malformed values are ignored (one `diag` debug line), never thrown:
 * a bad header must not fail the message it came with.
 */
export function extractSpanContext(carrier: TraceCarrier): SpanContext | undefined {
  if (carrier.traceparent !== undefined) {
    // The W3C propagator's own parser, without the Context objects its extract() builds around it:
    // a batch span extracts one context per record.
    const parsed = parseTraceParent(carrier.traceparent);
    if (parsed) {
      const { tracestate } = carrier;
      return { ...parsed, isRemote: true, ...(tracestate ? { traceState: new TraceState(tracestate) } : {}) };
    }
    diag.debug('ignored a malformed traceparent', { length: carrier.traceparent.length });
  }
  if (carrier.awsTraceHeader !== undefined) {
    const extracted = parseAwsTraceHeader(carrier.awsTraceHeader);
    if (extracted) return extracted;
    diag.debug('ignored an AWSTraceHeader without a valid Root and Parent', {
      length: carrier.awsTraceHeader.length,
    });
  }
  return undefined;
}

/** The span context of `ctx` (the active context by default) when it is valid and not suppressed. */
export function propagatedSpanContext(ctx: Context = context.active()): SpanContext | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The W3C pair naming `ctx`'s span (the active context by default); undefined when there is none. */
export function injectW3C(ctx: Context = context.active()): W3CTraceContext | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, recordSetter);
  const traceparent = carrier[TRACEPARENT_ATTRIBUTE];
  if (traceparent === undefined) return undefined;
  const tracestate = carrier[TRACESTATE_ATTRIBUTE];
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The W3C pair naming a span context (e.g. one extracted from an `AWSTraceHeader`). */
export function w3cOf(spanContext: SpanContext): W3CTraceContext | undefined {
  return injectW3C(trace.setSpanContext(ROOT_CONTEXT, spanContext));
}

/** The `AWSTraceHeader` naming `ctx`'s span, for a message with no room for `traceparent`. */
export function awsTraceHeaderOf(ctx: Context = context.active()): string | undefined {
  const spanContext = propagatedSpanContext(ctx);
  // The same conditions as for `traceparent` (a suppressed context propagates nothing).
  return spanContext && injectW3C(ctx) ? formatAwsTraceHeader(spanContext) : undefined;
}

/** A Lambda SQS record, as far as trace context goes (camelCase attribute values). */
export interface LambdaSqsRecordLike {
  readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string | undefined }>>;
  readonly attributes?: { readonly AWSTraceHeader?: string | undefined };
}

/** The trace context of a record Lambda hands an SQS-triggered function. */
export function lambdaRecordCarrier(record: LambdaSqsRecordLike): TraceCarrier {
  const attributes = record.messageAttributes;
  return {
    traceparent: attributes?.[TRACEPARENT_ATTRIBUTE]?.stringValue,
    tracestate: attributes?.[TRACESTATE_ATTRIBUTE]?.stringValue,
    awsTraceHeader: record.attributes?.AWSTraceHeader,
  };
}

/** An SDK `ReceiveMessage` message, as far as trace context goes (PascalCase attribute values). */
export interface SdkSqsMessageLike {
  readonly MessageAttributes?: Readonly<Record<string, { readonly StringValue?: string | undefined }>>;
  readonly Attributes?: Readonly<Partial<Record<string, string>>>;
}

/**
 * The trace context of a message `ReceiveMessage` returned; ask for it with
 * `MessageAttributeNames: TRACE_MESSAGE_ATTRIBUTES` and the `AWSTraceHeader` system attribute.
 */
export function sdkMessageCarrier(message: SdkSqsMessageLike): TraceCarrier {
  const attributes = message.MessageAttributes;
  return {
    traceparent: attributes?.[TRACEPARENT_ATTRIBUTE]?.StringValue,
    tracestate: attributes?.[TRACESTATE_ATTRIBUTE]?.StringValue,
    awsTraceHeader: message.Attributes?.[AWS_TRACE_HEADER_ATTRIBUTE],
  };
}

/** The message attributes to ask `ReceiveMessage` for to see the W3C pair. */
export const TRACE_MESSAGE_ATTRIBUTES: readonly string[] = [TRACEPARENT_ATTRIBUTE, TRACESTATE_ATTRIBUTE];
