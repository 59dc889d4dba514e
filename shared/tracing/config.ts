import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { z } from 'zod';
import { ConfigurationError, parseEnv } from '../core/env.ts';

/** Which spans are recorded: OpenTelemetry's `OTEL_TRACES_SAMPLER` values. */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** What `startTracing` builds a tracer provider from, read from the standard OTel variables. */
export interface TracingConfig {
  /**
   * Where spans are posted: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. (Headers, timeout and compression the exporter
   * reads from the OTEL_EXPORTER_OTLP_* variables itself.)
   */
  readonly tracesUrl: string;
  /** `OTEL_SERVICE_NAME`; the component's own name when unset. */
  readonly serviceName?: string;
  /** `OTEL_RESOURCE_ATTRIBUTES` (`key=value,…`). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: SamplerName;
  /** `OTEL_TRACES_SAMPLER_ARG` of the ratio samplers, 0..1. */
  readonly samplerRatio: number;
  /** Links kept per span: a batch span links to every message of its batch. */
  readonly linkCountLimit: number;
  /** The batch span processor's `OTEL_BSP_*` settings. */
  readonly scheduledDelayMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly exportTimeoutMs: number;
}

/**
 * More than the specification's 128: one batch span links to every message of its batch, and the
 * batch writer takes up to 1000 records per invocation.
 */
export const DEFAULT_LINK_COUNT_LIMIT = 1000;

// OpenTelemetry treats an empty variable as unset.
const unset = (value: unknown) => (value === '' ? undefined : value);
// Built on first use: with tracing off (no endpoint) it is never built, so a function that does not
// trace spends nothing on it at start-up.
function tracingEnvSchema() {
  const text = z.preprocess(unset, z.string().trim().min(1).optional());
  const url = z.preprocess(
    unset,
    z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  );
  const int = (min: number, fallback: number) =>
    z.preprocess(unset, z.coerce.number().int().min(min).default(fallback));
  return z.object({
    OTEL_SDK_DISABLED: z.preprocess(unset, z.enum(['true', 'false']).default('false')),
    OTEL_TRACES_EXPORTER: text,
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url,
    OTEL_EXPORTER_OTLP_PROTOCOL: text,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: text,
    OTEL_SERVICE_NAME: text,
    OTEL_RESOURCE_ATTRIBUTES: text,
    OTEL_TRACES_SAMPLER: z.preprocess(unset, z.enum(SAMPLERS).default('parentbased_always_on')),
    OTEL_TRACES_SAMPLER_ARG: z.preprocess(unset, z.coerce.number().min(0).max(1).default(1)),
    OTEL_SPAN_LINK_COUNT_LIMIT: int(0, DEFAULT_LINK_COUNT_LIMIT),
    OTEL_BSP_SCHEDULE_DELAY: int(0, 5000),
    OTEL_BSP_MAX_QUEUE_SIZE: int(1, 2048),
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: int(1, 512),
    OTEL_BSP_EXPORT_TIMEOUT: int(0, 30_000),
  });
}

let schema: ReturnType<typeof tracingEnvSchema> | undefined;

/** The exporters this project ships: OTLP over HTTP (JSON), or none. */
const EXPORTERS = new Set(['otlp', 'none']);
/** The OTLP exporter sends JSON; a collector's OTLP/HTTP receiver takes JSON and protobuf alike. */
const HTTP_PROTOCOLS = new Set(['http/json', 'http/protobuf']);

/**
 * The tracing configuration `env` asks for, or undefined when tracing is off. On only when an OTLP
 * endpoint is set (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`), unless
 * `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true`: nothing is exported by default. With an
 * endpoint set, throws `ConfigurationError` naming the variable for a value it cannot honour (an
 * exporter other than `otlp`/`none`, the `grpc` protocol, a bad URL, a ratio outside 0..1); without
 * one the other OTEL_* variables are not read at all.
 */
export function tracingConfig(env: NodeJS.ProcessEnv = process.env): TracingConfig | undefined {
  // Off without an endpoint, whatever else is set: the other variables are read only to trace.
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  schema ??= tracingEnvSchema();
  const e = parseEnv(schema, env);
  const exporters = (e.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((name) => name.trim());
  const unknown = exporters.find((name) => !EXPORTERS.has(name));
  if (unknown !== undefined) {
    throw new ConfigurationError(
      `environment variable OTEL_TRACES_EXPORTER: ${JSON.stringify(unknown)} is not supported; use otlp or none`,
    );
  }
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const) {
    const protocol = e[name];
    if (protocol !== undefined && !HTTP_PROTOCOLS.has(protocol)) {
      throw new ConfigurationError(
        `environment variable ${name}: ${JSON.stringify(protocol)} is not supported; the exporter speaks OTLP over HTTP (http/json)`,
      );
    }
  }
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracesUrl =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (base === undefined ? undefined : `${base.endsWith('/') ? base : `${base}/`}v1/traces`);
  if (e.OTEL_SDK_DISABLED === 'true' || !exporters.includes('otlp') || tracesUrl === undefined) {
    return undefined;
  }
  return {
    tracesUrl,
    ...(e.OTEL_SERVICE_NAME === undefined ? {} : { serviceName: e.OTEL_SERVICE_NAME }),
    resourceAttributes: parseKeyPairsIntoRecord(e.OTEL_RESOURCE_ATTRIBUTES),
    sampler: e.OTEL_TRACES_SAMPLER,
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG,
    linkCountLimit: e.OTEL_SPAN_LINK_COUNT_LIMIT,
    scheduledDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
    maxQueueSize: e.OTEL_BSP_MAX_QUEUE_SIZE,
    maxExportBatchSize: Math.min(e.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, e.OTEL_BSP_MAX_QUEUE_SIZE),
    exportTimeoutMs: e.OTEL_BSP_EXPORT_TIMEOUT,
  };
}
