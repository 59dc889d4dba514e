import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { withTimeout } from '../core/timeout.ts';
import type { TracingConfig } from './config.ts';
import type { Tracing } from './types.ts';

/** Longest `shutdown()` waits for the last export by default: well inside a stop budget. */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

/** The tracer's instrumentation scope. */
export const TRACER_NAME = 'sqs-dynamodb-batch-pipeline';

export interface SdkTracingOptions {
  readonly serviceName: string;
  readonly config: TracingConfig;
  /** Lambda's variables name the function in the resource. */
  readonly env: NodeJS.ProcessEnv;
  /** @default OTLP/HTTP (JSON), configured by the OTEL_EXPORTER_OTLP_* variables */
  readonly exporter?: SpanExporter;
}

/** A tracer provider with a batch span processor, registered globally. Loaded by `startTracing` only. */
export function createSdkTracing(options: SdkTracingOptions): Tracing {
  const { config, env } = options;
  const lambda = env.AWS_LAMBDA_FUNCTION_NAME;
  const resource = defaultResource().merge(
    resourceFromAttributes({
      'service.name': options.serviceName,
      ...(lambda ? { 'cloud.provider': 'aws', 'faas.name': lambda } : {}),
      ...(env.AWS_REGION ? { 'cloud.region': env.AWS_REGION } : {}),
      ...config.resourceAttributes,
    }),
  );
  const provider = new TracerProvider({
    resource,
    sampler: samplerOf(config),
    spanLimits: { linkCountLimit: config.linkCountLimit },
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: options.exporter ?? new OTLPTraceExporter({ url: config.tracesUrl }),
        scheduledDelayMillis: config.scheduledDelayMs,
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: config.maxExportBatchSize,
        exportTimeoutMillis: config.exportTimeoutMs,
      }),
    ],
  });
  // Each registration fails (false) when another one holds the global: that one stays, untouched.
  const registered = {
    context: context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()),
    propagation: propagation.setGlobalPropagator(new W3CTraceContextPropagator()),
    trace: trace.setGlobalTracerProvider(provider),
  };

  let stopped: Promise<void> | undefined;
  const flush = async (timeoutMs = 2000): Promise<void> => {
    await provider.forceFlush({ timeoutMillis: timeoutMs }).catch(() => undefined);
  };
  return {
    enabled: true,
    tracer: provider.getTracer(TRACER_NAME),
    flush,
    shutdown(timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS) {
      stopped ??= (async () => {
        const stop = (async () => {
          await flush(timeoutMs);
          await provider.shutdown();
        })().catch(() => undefined);
        await withTimeout(stop, timeoutMs, () => undefined);
        if (registered.trace) trace.disable();
        if (registered.propagation) propagation.disable();
        if (registered.context) context.disable();
      })();
      return stopped;
    },
  };
}

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}
