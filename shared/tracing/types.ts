import type { Tracer } from '@opentelemetry/api';

/**
 * A component's tracing: on (a tracer provider exporting over OTLP) or off. Instrumented code asks
 * `enabled` first and does no tracing work at all when it is false: off costs a property read.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** The component's tracer; a no-op one when off. */
  readonly tracer: Tracer;
  /**
   * Exports every ended span now, within `timeoutMs` (a Lambda invocation flushes before it
   * returns). Never rejects: a collector that is down costs at most the timeout, never the batch.
   */
  flush(timeoutMs?: number): Promise<void>;
  /**
   * Flushes (within `timeoutMs`, default 5 s), stops exporting and unregisters the global context
   * manager, propagator and provider it registered. Idempotent; never rejects.
   */
  shutdown(timeoutMs?: number): Promise<void>;
}
