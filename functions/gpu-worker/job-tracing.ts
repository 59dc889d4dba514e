/**
 * The GPU worker's spans: one per job attempt, a child of the job's own trace context (its producer's,
 * carried by the dispatcher in the job-traces attribute) so that trace shows where its job ran; and
 * one per inference batch, linking to the span of every job in it (one batch serves many traces).
 */
import {
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { JobRecord } from '../../shared/pipeline/inference/job-status.ts';
import { parseJobTraces, type WorkJob } from '../../shared/pipeline/inference/work-message.ts';
import {
  SpanAttributes as A,
  extractSpanContext,
  MESSAGING_SYSTEM_SQS,
  type Tracing,
} from '../../shared/tracing/index.ts';
import type { ModelRef } from './backends/types.ts';
import type { JobEnd } from './message-ledger.ts';
import type { ReceivedMessage } from './work-source.ts';

/** A job attempt's span; undefined when tracing is off. */
export type JobSpan = Span | undefined;

export interface JobTracer {
  /**
   * Starts a span for each job of `message`, index-aligned with `jobs`: parent = the job's own trace
   * context, else the message's (the dispatcher's batch span); with a link to the message's context
   * when the job has its own. An empty array when tracing is off.
   */
  startJobs(message: ReceivedMessage, jobs: readonly WorkJob[]): readonly JobSpan[];
  /** Ends a job's span with how the attempt ended (the final record when it is durable). */
  endJob(span: JobSpan, end: JobEnd, record?: JobRecord): void;
  /** Runs one inference call inside an `infer <model>` span that links to each job's span. */
  inBatch<T>(model: ModelRef, spans: readonly JobSpan[], run: () => Promise<T>): Promise<T>;
}

/** Tracing off: no span, no work. */
export const noJobTracing: JobTracer = {
  startJobs: () => [],
  endJob: () => {},
  inBatch: (_model, _spans, run) => run(),
};

/** The worker's job tracer for `tracing` (`noJobTracing` when off). */
export function jobTracer(tracing: Tracing): JobTracer {
  if (!tracing.enabled) return noJobTracing;
  const { tracer } = tracing;
  return {
    startJobs(message, jobs) {
      const messageContext = message.trace && extractSpanContext(message.trace);
      const traces = parseJobTraces(message.trace?.jobTraces, jobs.length);
      return jobs.map((job, i) => {
        const jobTrace = traces[i];
        const own = jobTrace && extractSpanContext(jobTrace);
        const parent: SpanContext | undefined = own ?? messageContext;
        const links: Link[] = own && messageContext ? [{ context: messageContext }] : [];
        return tracer.startSpan(
          `job ${job.model}@${job.modelVersion}`,
          {
            kind: SpanKind.CONSUMER,
            root: parent === undefined,
            links,
            attributes: {
              [A.MessagingSystem]: MESSAGING_SYSTEM_SQS,
              [A.MessagingOperationType]: 'process',
              [A.MessagingMessageId]: message.messageId,
              [A.JobId]: job.jobId,
              [A.Model]: job.model,
              [A.ModelVersion]: job.modelVersion,
              [A.JobAttempt]: message.receiveCount,
            },
          },
          parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
        );
      });
    },

    endJob(span, end, record) {
      if (!span) return;
      if (end === 'durable' && record) {
        span.setAttribute(A.JobOutcome, record.status);
        if (record.error) {
          span.setAttribute(A.ErrorCode, record.error.code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: record.error.message });
        }
      } else {
        span.setAttribute(A.JobOutcome, end);
        if (end === 'retry')
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'attempt failed; retried' });
      }
      span.end();
    },

    inBatch(model, spans, run) {
      const links: Link[] = [];
      for (const span of spans) if (span) links.push({ context: span.spanContext() });
      return tracer.startActiveSpan(
        `infer ${model.name}@${model.version}`,
        {
          root: true,
          links,
          attributes: { [A.Model]: model.name, [A.ModelVersion]: model.version, [A.BatchSize]: spans.length },
        },
        async (span) => {
          try {
            return await run();
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}
