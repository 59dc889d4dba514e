/**
 * The trace context `pipeline send` puts on its messages: the caller's (`--traceparent`), and, when
 * the OTEL_* variables configure an exporter, a `pipeline send` span of its own under it.
 */

import { type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InvalidArgumentError } from 'commander';
import {
  extractSpanContext,
  MESSAGING_SYSTEM_SQS,
  SpanAttributes,
  startTracing,
  type Tracing,
} from '../../tracing/index.ts';

/** `service.name` of the CLI's spans unless OTEL_SERVICE_NAME says otherwise. */
export const SEND_SERVICE_NAME = 'pipeline-send';

/** Commander parser of `--traceparent`: a W3C traceparent, refused with the format when malformed. */
export function traceparentFlag(value: string): string {
  if (extractSpanContext({ traceparent: value }) === undefined) {
    throw new InvalidArgumentError(
      'expected a W3C traceparent, 00-<32 hex trace id>-<16 hex span id>-<2 hex flags> (lowercase, ids not all zeros)',
    );
  }
  return value;
}

/** The run's trace: the context its messages carry (`false`: none) and how to end it. */
export interface SendTrace {
  /** For `SqsBatchSenderOptions.traceContext`. */
  readonly traceContext: false | Context;
  /** The trace id the messages carry, for the summary. */
  readonly traceId?: string;
  /** Ends the run's span with the counts, and exports it. */
  end(outcome: { readonly sent: number; readonly failed: number }): Promise<void>;
}

/**
 * The trace of one run. Without `traceparent` and without an exporter configured the messages carry
 * nothing. With `traceparent` alone they carry it as given (children of the caller's span). With an
 * exporter, a `pipeline send` PRODUCER span (child of `traceparent`, else a new trace) covers the
 * run and the messages carry it: a consumer's batch span links to it.
 */
export async function startSendTrace(queueUrl: string, traceparent: string | undefined): Promise<SendTrace> {
  const caller = traceparent === undefined ? undefined : extractSpanContext({ traceparent });
  const parent = caller ? trace.setSpanContext(ROOT_CONTEXT, caller) : ROOT_CONTEXT;
  const tracing = await startTracing({ serviceName: SEND_SERVICE_NAME });
  if (!tracing.enabled) {
    return caller
      ? { traceContext: parent, traceId: caller.traceId, end: async () => {} }
      : { traceContext: false, end: async () => {} };
  }
  const span = tracing.tracer.startSpan(
    'pipeline send',
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [SpanAttributes.MessagingSystem]: MESSAGING_SYSTEM_SQS,
        [SpanAttributes.MessagingOperationType]: 'send',
        [SpanAttributes.MessagingDestinationName]: queueUrl.slice(queueUrl.lastIndexOf('/') + 1),
      },
    },
    parent,
  );
  return {
    traceContext: trace.setSpan(parent, span),
    traceId: span.spanContext().traceId,
    end: (outcome) => endRun(tracing, span, outcome),
  };
}

async function endRun(
  tracing: Tracing,
  span: Span,
  outcome: { readonly sent: number; readonly failed: number },
): Promise<void> {
  span.setAttributes({ 'pipeline.messages.sent': outcome.sent, 'pipeline.messages.failed': outcome.failed });
  if (outcome.failed > 0) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.failed} message(s) not sent` });
  }
  span.end();
  await tracing.shutdown();
}
