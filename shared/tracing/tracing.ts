import { trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { type TracingConfig, tracingConfig } from './config.ts';
import type { Tracing } from './types.ts';

export type { Tracing } from './types.ts';

/** Tracing off: nothing is created, recorded or exported. */
export const tracingOff: Tracing = Object.freeze({
  enabled: false,
  tracer: trace.getTracer('off'),
  flush: async () => {},
  shutdown: async () => {},
});

export interface StartTracingOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` says otherwise, e.g. the Powertools service name. */
  readonly serviceName: string;
  /** Where the OTEL_* variables are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Export to this exporter instead of OTLP, and turn tracing on whatever `env` says (tests, the
   * benchmark). @default OTLP/HTTP when `env` configures it, else off
   */
  readonly exporter?: SpanExporter;
  /** With `exporter`: the configuration to use. @default the defaults of `tracingConfig` */
  readonly config?: TracingConfig;
}

/**
 * The component's tracing as the standard OpenTelemetry variables configure it (see
 * `tracingConfig`): off unless an OTLP endpoint is set. When on, it registers an
 * AsyncLocalStorage context manager, the W3C propagator and the provider globally. The SDK is loaded
 * only then, so a component with tracing off never evaluates it. Throws `ConfigurationError` for an
 * OTEL_* value it cannot honour.
 *
 * @example
 * const tracing = await startTracing({ serviceName: 'batch-writer' });   // handler.ts, module scope
 */
export async function startTracing(options: StartTracingOptions): Promise<Tracing> {
  const fromEnv = tracingConfig(options.env);
  const config = options.exporter ? (options.config ?? fromEnv ?? defaultTracingConfig()) : fromEnv;
  if (config === undefined) return tracingOff;
  const { createSdkTracing } = await import('./sdk.ts');
  return createSdkTracing({
    serviceName: config.serviceName ?? options.serviceName,
    config,
    env: options.env ?? process.env,
    ...(options.exporter ? { exporter: options.exporter } : {}),
  });
}

/** The configuration `tracingConfig` reads from an endpoint alone, every other variable unset. */
export function defaultTracingConfig(): TracingConfig {
  return tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })!;
}
