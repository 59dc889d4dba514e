import { type Attributes, type Link, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SpanAttributes as A, MESSAGING_SYSTEM_SQS } from './attributes.ts';
import { extractSpanContext, type LambdaSqsRecordLike, lambdaRecordCarrier } from './carrier.ts';
import type { Tracing } from './tracing.ts';

/** An SQS record as far as its batch span goes. */
export interface BatchRecordLike extends LambdaSqsRecordLike {
  readonly messageId: string;
  readonly eventSourceARN?: string;
}

/** The SQS event of one invocation. */
export interface SqsBatchEventLike {
  readonly Records: readonly BatchRecordLike[];
}

type BatchHandler<E, C, R> = (event: E, context: C) => Promise<R>;

/**
 * Wraps an SQS-triggered handler in one CONSUMER span per invocation, `process <queue>`: a new trace
 * (one batch serves many traces) with a link to the context of every record that carries one
 * (`traceparent`, else `AWSTraceHeader`; link attribute `messaging.message.id`). The handler runs
 * in the span's context, so what it sends (`SqsBatchSender`) carries the batch span. The span
 * records the batch size, the records reported for redelivery (`batchItemFailures`; status ERROR
 * when any) and a thrown error; never a payload. With tracing off it returns `handler` itself.
 *
 * @example
 * const ingest = traceSqsBatch(tracing, async (event: SQSEvent, context: Context) => process(event));
 */
export function traceSqsBatch<E extends SqsBatchEventLike, C, R>(
  tracing: Tracing,
  handler: BatchHandler<E, C, R>,
): BatchHandler<E, C, R> {
  if (!tracing.enabled) return handler;
  return (event, lambdaContext) => {
    const records = event.Records;
    const links: Link[] = [];
    for (const record of records) {
      const linked = extractSpanContext(lambdaRecordCarrier(record));
      if (linked) links.push({ context: linked, attributes: { [A.MessagingMessageId]: record.messageId } });
    }
    const queue = queueName(records[0]?.eventSourceARN);
    const invocationId = (lambdaContext as { awsRequestId?: unknown } | undefined)?.awsRequestId;
    const attributes: Attributes = {
      [A.MessagingSystem]: MESSAGING_SYSTEM_SQS,
      [A.MessagingOperationType]: 'process',
      [A.MessagingBatchMessageCount]: records.length,
      [A.RecordsLinked]: links.length,
      [A.FaasTrigger]: 'pubsub',
      ...(queue === undefined ? {} : { [A.MessagingDestinationName]: queue }),
      ...(typeof invocationId === 'string' ? { [A.FaasInvocationId]: invocationId } : {}),
    };
    return tracing.tracer.startActiveSpan(
      `process ${queue ?? 'sqs'}`,
      { kind: SpanKind.CONSUMER, root: true, links, attributes },
      async (span) => {
        try {
          const result = await handler(event, lambdaContext);
          const failures = (result as { batchItemFailures?: unknown } | undefined)?.batchItemFailures;
          if (Array.isArray(failures)) {
            span.setAttribute(A.RecordsFailed, failures.length);
            if (failures.length > 0) {
              span.setStatus({
                code: SpanStatusCode.ERROR,
                message: `${failures.length} of ${records.length} records left for redelivery`,
              });
            }
          }
          return result;
        } catch (error) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}

/** What became of a batch's records, beyond the failures `traceSqsBatch` reads from the response. */
export interface BatchOutcome {
  readonly succeeded: number;
  readonly deadLettered: number;
}

/** Puts `outcome` on the active batch span; does nothing without one (tracing off). */
export function recordBatchOutcome(outcome: BatchOutcome): void {
  trace.getActiveSpan()?.setAttributes({
    [A.RecordsSucceeded]: outcome.succeeded,
    [A.RecordsDeadLettered]: outcome.deadLettered,
  });
}

/** `arn:aws:sqs:us-east-1:123456789012:ingest` → `ingest`. */
function queueName(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  return arn.slice(arn.lastIndexOf(':') + 1) || undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
