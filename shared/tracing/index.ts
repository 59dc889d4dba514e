// The public API of the tracing library (OpenTelemetry across the pipeline's hops): code outside
// shared/tracing/ imports from here only. The SDK itself (sdk.ts) is loaded by `startTracing`, and
// only when tracing is on.

export { MESSAGING_SYSTEM_SQS, SpanAttributes } from './attributes.ts';
export {
  type BatchOutcome,
  type BatchRecordLike,
  recordBatchOutcome,
  type SqsBatchEventLike,
  traceSqsBatch,
} from './batch-span.ts';
export {
  AWS_TRACE_HEADER_ATTRIBUTE,
  awsTraceHeaderOf,
  extractSpanContext,
  injectW3C,
  type LambdaSqsRecordLike,
  lambdaRecordCarrier,
  propagatedSpanContext,
  type SdkSqsMessageLike,
  sdkMessageCarrier,
  TRACE_MESSAGE_ATTRIBUTES,
  TRACEPARENT_ATTRIBUTE,
  TRACESTATE_ATTRIBUTE,
  type TraceCarrier,
  type W3CTraceContext,
  w3cOf,
} from './carrier.ts';
export {
  DEFAULT_LINK_COUNT_LIMIT,
  SAMPLERS,
  type SamplerName,
  type TracingConfig,
  tracingConfig,
} from './config.ts';
export { type FlushTracesOptions, flushTraces } from './middleware.ts';
export {
  defaultTracingConfig,
  type StartTracingOptions,
  startTracing,
  type Tracing,
  tracingOff,
} from './tracing.ts';
export { formatAwsTraceHeader, parseAwsTraceHeader } from './xray.ts';
