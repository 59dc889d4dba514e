import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Context } from '@opentelemetry/api';
import {
  awsTraceHeaderOf,
  injectW3C,
  TRACEPARENT_ATTRIBUTE,
  TRACESTATE_ATTRIBUTE,
} from '../tracing/index.ts';
import { entryBytes, type SendEntry, sqsLimits } from './limits.ts';

/**
 * `entry` carrying the trace context of `ctx` (the sender passes the active one), for the consumer
 * to link to or continue; `entry` itself when `ctx` holds no valid span context, so a producer with
 * no trace active sends exactly what it was given.
 *
 * The context goes in the W3C message attributes `traceparent` (and `tracestate` when it has one),
 * within SQS's budget of 10 message attributes and `maxBytes`:
 * - a message that already has a `traceparent` attribute or an `AWSTraceHeader` keeps its own;
 * - `tracestate` only when there is room for both and it fits, else `traceparent` alone;
 * - no free attribute, or no room in `maxBytes`: the `AWSTraceHeader` system attribute (X-Ray's
 *   format, trace state left out), which counts toward neither limit. Consumers read it when a
 *   message has no `traceparent`. Nothing is refused because of trace context.
 */
export function withTraceContext(entry: SendEntry, ctx: Context, maxBytes: number): SendEntry {
  const w3c = injectW3C(ctx);
  if (w3c === undefined) return entry;
  const attributes = entry.messageAttributes ?? {};
  if (attributes[TRACEPARENT_ATTRIBUTE] !== undefined || entry.awsTraceHeader !== undefined) return entry;
  const free = sqsLimits.maxMessageAttributes - Object.keys(attributes).length;
  if (free > 0) {
    const withParent = { ...attributes, [TRACEPARENT_ATTRIBUTE]: stringAttribute(w3c.traceparent) };
    const candidates: Record<string, MessageAttributeValue>[] = [withParent];
    if (w3c.tracestate !== undefined && free > 1 && attributes[TRACESTATE_ATTRIBUTE] === undefined) {
      candidates.unshift({ ...withParent, [TRACESTATE_ATTRIBUTE]: stringAttribute(w3c.tracestate) });
    }
    for (const messageAttributes of candidates) {
      const traced: SendEntry = { ...entry, messageAttributes };
      if (entryBytes(traced) <= maxBytes) return traced;
    }
  }
  const awsTraceHeader = awsTraceHeaderOf(ctx);
  return awsTraceHeader === undefined ? entry : { ...entry, awsTraceHeader };
}

function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}
