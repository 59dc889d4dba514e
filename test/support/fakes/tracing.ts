import { type Context, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startTracing, type Tracing } from '../../../shared/tracing/index.ts';

/** Tracing on, exporting to memory: `spans()` flushes and returns every span ended so far. */
export interface MemoryTracing {
  readonly tracing: Tracing;
  readonly exporter: InMemorySpanExporter;
  spans(): Promise<ReadableSpan[]>;
  /** Shuts the provider down and unregisters its globals (call in afterEach/afterAll). */
  close(): Promise<void>;
}

export async function memoryTracing(serviceName = 'test'): Promise<MemoryTracing> {
  const exporter = new InMemorySpanExporter();
  const tracing = await startTracing({ serviceName, exporter, env: {} });
  return {
    tracing,
    exporter,
    async spans() {
      await tracing.flush();
      return exporter.getFinishedSpans();
    },
    close: () => tracing.shutdown(),
  };
}

/** A remote span context with recognisable ids: trace `<n × 32>`, span `<n × 16>` (n a hex digit). */
export function remoteSpanContext(digit: string, sampled = true): SpanContext {
  return {
    traceId: digit.repeat(32),
    spanId: digit.repeat(16),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
}

/** The `traceparent` of `remoteSpanContext(digit)`. */
export function traceparentOf(digit: string, sampled = true): string {
  return `00-${digit.repeat(32)}-${digit.repeat(16)}-0${sampled ? 1 : 0}`;
}

/** A context holding `spanContext` as its (remote) span, without any global context manager. */
export function contextWith(spanContext: SpanContext): Context {
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}
