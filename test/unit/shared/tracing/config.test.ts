import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../../shared/core/env.ts';
import {
  DEFAULT_LINK_COUNT_LIMIT,
  startTracing,
  tracingConfig,
  tracingOff,
} from '../../../../shared/tracing/index.ts';

const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

describe('tracingConfig', () => {
  it('is off with no OTEL variables at all: nothing is exported by default', async () => {
    // Act
    const config = tracingConfig({});
    const tracing = await startTracing({ serviceName: 'svc', env: {} });
    // Assess
    expect(config).toBeUndefined();
    expect(tracing).toBe(tracingOff);
    expect(tracing.enabled).toBe(false);
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', endpoint, 'http://127.0.0.1:4318/v1/traces'],
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT with a path',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/p/' },
      'https://otel.example/p/v1/traces',
    ],
    [
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as given, over the other)',
      { ...endpoint, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/traces' },
      'https://otel.example/traces',
    ],
  ])('is on with %s, with the documented defaults', (_, env, tracesUrl) => {
    // Act
    const config = tracingConfig(env);
    // Assess
    expect(config).toEqual({
      tracesUrl,
      resourceAttributes: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      linkCountLimit: DEFAULT_LINK_COUNT_LIMIT,
      scheduledDelayMs: 5000,
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      exportTimeoutMs: 30_000,
    });
  });

  it.each([
    ['OTEL_TRACES_EXPORTER=none', { ...endpoint, OTEL_TRACES_EXPORTER: 'none' }],
    ['OTEL_SDK_DISABLED=true', { ...endpoint, OTEL_SDK_DISABLED: 'true' }],
    ['an exporter but no endpoint', { OTEL_TRACES_EXPORTER: 'otlp' }],
    ['an empty endpoint (unset, as the specification reads it)', { OTEL_EXPORTER_OTLP_ENDPOINT: '' }],
  ])('stays off with %s', (_, env) => {
    // Act
    const config = tracingConfig(env);
    // Assess
    expect(config).toBeUndefined();
  });

  it('reads no other OTEL variable without an endpoint: tracing is off, and a bad value there is no error', () => {
    // Act
    const config = tracingConfig({ OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_EXPORTER: 'zipkin' });
    // Assess
    expect(config).toBeUndefined();
  });

  it('reads the service name, resource attributes, sampler and limits', () => {
    // Act
    const config = tracingConfig({
      ...endpoint,
      OTEL_SERVICE_NAME: 'orders-writer',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=data',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_SPAN_LINK_COUNT_LIMIT: '10000',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
    });
    // Assess
    expect(config).toMatchObject({
      serviceName: 'orders-writer',
      resourceAttributes: { 'deployment.environment': 'prod', team: 'data' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      linkCountLimit: 10_000,
      maxQueueSize: 100,
      maxExportBatchSize: 100,
    });
  });

  it.each([
    [
      'OTEL_TRACES_EXPORTER',
      { ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' },
      /OTEL_TRACES_EXPORTER: "zipkin"/,
    ],
    [
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      { ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      /"grpc" is not supported/,
    ],
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      /OTLP_ENDPOINT: must be an http/,
    ],
    ['OTEL_TRACES_SAMPLER', { ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER/],
    ['OTEL_TRACES_SAMPLER_ARG', { ...endpoint, OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG/],
  ])('refuses a bad %s with a ConfigurationError naming it', (_, env, message) => {
    // Act
    const read = () => tracingConfig(env);
    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(message);
  });

  it('accepts http/protobuf as the protocol (the collector reads the JSON it gets alike)', () => {
    // Act
    const config = tracingConfig({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' });
    // Assess
    expect(config).toBeDefined();
  });
});
