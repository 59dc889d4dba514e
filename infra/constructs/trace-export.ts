import { Token } from 'aws-cdk-lib';
import { InvalidPropError } from './errors.ts';

/**
 * Where a component exports its OpenTelemetry traces (OTLP over HTTP, JSON). Off unless given: the
 * synthesized template then holds no OTEL_* variable and the component creates no span.
 *
 * The exporter sends no credentials: point it at a collector you run (the ADOT/OpenTelemetry
 * Collector as a gateway, or a sidecar) that adds what your backend needs. The endpoint must be
 * reachable from where the component runs (the GPU tasks are in the VPC's private subnets).
 */
export interface TraceExportProps {
  /**
   * OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<url>/v1/traces`, e.g.
   * `http://collector.internal:4318`.
   */
  readonly otlpEndpoint: string;
  /**
   * Fraction of new traces sampled (`parentbased_traceidratio`); a message that arrives with a
   * sampling decision keeps it. @default 1 (every trace)
   */
  readonly sampleRatio?: number;
  /** `OTEL_RESOURCE_ATTRIBUTES`, e.g. `{ 'deployment.environment': 'prod' }`. @default none */
  readonly resourceAttributes?: Readonly<Record<string, string>>;
}

/**
 * The OTEL_* variables of one component for `props` (none without): its `service.name` is the
 * component's Powertools service name, as in its logs and metrics. Throws `InvalidPropError` for an
 * endpoint that is not an http(s) URL, a ratio outside 0..1 or an attribute `key=value,…` cannot carry.
 */
export function traceExportEnvironment(
  construct: string,
  props: TraceExportProps | undefined,
  serviceName: string,
): Record<string, string> {
  if (props === undefined) return {};
  const { otlpEndpoint, sampleRatio, resourceAttributes } = props;
  if (!Token.isUnresolved(otlpEndpoint) && !/^https?:\/\/[^\s/]+/.test(otlpEndpoint)) {
    throw new InvalidPropError(
      construct,
      'traceExport.otlpEndpoint',
      JSON.stringify(otlpEndpoint),
      'use an http:// or https:// URL, e.g. http://collector.internal:4318',
    );
  }
  if (sampleRatio !== undefined && !(sampleRatio >= 0 && sampleRatio <= 1)) {
    throw new InvalidPropError(construct, 'traceExport.sampleRatio', String(sampleRatio), 'use 0..1');
  }
  const attributes = Object.entries(resourceAttributes ?? {});
  const bad = attributes.find(([key, value]) => !/^[^\s,=]+$/.test(key) || /[,=\s]/.test(value));
  if (bad) {
    throw new InvalidPropError(
      construct,
      'traceExport.resourceAttributes',
      JSON.stringify(`${bad[0]}=${bad[1]}`),
      'keys and values without spaces, commas or equals signs',
    );
  }
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
    OTEL_SERVICE_NAME: serviceName,
    ...(sampleRatio === undefined
      ? {}
      : { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(sampleRatio) }),
    ...(attributes.length === 0
      ? {}
      : { OTEL_RESOURCE_ATTRIBUTES: attributes.map(([k, v]) => `${k}=${v}`).join(',') }),
  };
}
