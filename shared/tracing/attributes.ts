/**
 * Span attribute names. The messaging and FaaS ones are OpenTelemetry semantic conventions that are
 * still incubating, copied here as the conventions' own guidance advises (their incubating entry
 * point is not a stable API); the `pipeline.*` ones are this project's.
 */
export const SpanAttributes = {
  MessagingSystem: 'messaging.system',
  MessagingOperationType: 'messaging.operation.type',
  MessagingDestinationName: 'messaging.destination.name',
  MessagingMessageId: 'messaging.message.id',
  MessagingBatchMessageCount: 'messaging.batch.message_count',
  FaasTrigger: 'faas.trigger',
  FaasInvocationId: 'faas.invocation_id',
  /** Records of the batch the handler reported for redelivery (batch item failures). */
  RecordsFailed: 'pipeline.records.failed',
  /** Records of the batch sent to the dead-letter queue as permanent rejects. */
  RecordsDeadLettered: 'pipeline.records.dead_lettered',
  /** Records of the batch handled for good (written, stale, superseded; queued for the GPU). */
  RecordsSucceeded: 'pipeline.records.succeeded',
  /** Records of the batch that carried a usable trace context (each one is a link). */
  RecordsLinked: 'pipeline.records.linked',
  JobId: 'pipeline.job.id',
  Model: 'pipeline.model',
  ModelVersion: 'pipeline.model.version',
  /** How a job's attempt ended: `DONE`, `FAILED`, `retry` or `handBack`. */
  JobOutcome: 'pipeline.job.outcome',
  JobAttempt: 'pipeline.job.attempt',
  ErrorCode: 'pipeline.error.code',
  BatchSize: 'pipeline.batch.size',
} as const;

/** `messaging.system` for Amazon SQS. */
export const MESSAGING_SYSTEM_SQS = 'aws_sqs';
