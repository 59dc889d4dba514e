import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deadlineOf } from '../../shared/core/deadline.ts';
import { SqsDeadLetterSink } from '../../shared/pipeline/dead-letter.ts';
import { jobsTableTarget } from '../../shared/pipeline/inference/job-status.ts';
import { DISPATCHER_METRICS } from '../../shared/pipeline/inference/metric-names.ts';
import { SqsBatchSender } from '../../shared/sqs/index.ts';
import {
  extractSpanContext,
  lambdaRecordCarrier,
  recordBatchOutcome,
  type Tracing,
  traceSqsBatch,
  tracingOff,
  w3cOf,
} from '../../shared/tracing/index.ts';
import { WriteBatcher } from '../../shared/write-batcher/index.ts';
import { dispatchRequests } from './core.ts';
import type { DispatcherEnv } from './env.ts';
import { DynamoDbJobStatusReader } from './job-status-reader.ts';
import { snapshotModelsFor } from './model-snapshot.ts';
import { SnapshotModelVersionResolver, StaticModelVersionResolver } from './model-version.ts';
import type { ModelVersionResolver, ServiceScaler } from './ports.ts';
import { EcsServiceScaler, NoopServiceScaler } from './scaler.ts';

export interface DispatcherWiring {
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly metrics?: Metrics;
  /** @default an ECS scaler when `env.service` is set, else none */
  readonly scaler?: ServiceScaler;
  /**
   * One span per batch linking to every request's trace context, whose context the gpu-work
   * messages carry; each job's own context travels to the worker in its message. @default tracingOff
   */
  readonly tracing?: Tracing;
}

export type DispatchFunction = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The dispatcher's clients and ports for `env`, created once, and the function that handles one
 * SQS batch. `handler.ts` wraps it in middy; local runs and tests call it through the local
 * event-source poller with their own environment.
 */
export function createDispatch(env: DispatcherEnv, wiring: DispatcherWiring): DispatchFunction {
  const { logger, metrics } = wiring;
  // maxAttempts 1: the WriteBatcher and the sender own retries, so they stay inside the deadline.
  const ddb = new DynamoDBClient({ maxAttempts: 1 });
  const sqs = new SQSClient({ maxAttempts: 1 });
  const batcher = new WriteBatcher({ client: ddb, ...(metrics ? { metrics } : {}) });
  const work = new SqsBatchSender({ queueUrl: env.workQueueUrl, client: sqs });
  const deadLetters = new SqsDeadLetterSink(sqs, env.dlqUrl);
  const statuses = new DynamoDbJobStatusReader(new DynamoDBClient({}), env.jobsTable);
  const scaler =
    wiring.scaler ??
    (env.service ? new EcsServiceScaler(new ECSClient({}), env.service) : new NoopServiceScaler());
  const staticVersions = new StaticModelVersionResolver(env.models);
  const versions: ModelVersionResolver = env.configSnapshot
    ? new SnapshotModelVersionResolver(
        snapshotModelsFor({
          client: new DynamoDBClient({}),
          tableName: env.configSnapshot.tableName,
          grantedTables: env.configSnapshot.grantedTables,
          name: env.configSnapshot.name,
          maxAgeMs: env.configSnapshot.maxAgeMs,
          logger,
        }),
        staticVersions,
      )
    : staticVersions;
  const table = jobsTableTarget(env.jobsTable);
  const tracing = wiring.tracing ?? tracingOff;
  // The request's context as the producer sent it (an AWSTraceHeader becomes a traceparent).
  const jobTrace = tracing.enabled
    ? (record: SQSRecord) => {
        const spanContext = extractSpanContext(lambdaRecordCarrier(record));
        return spanContext && w3cOf(spanContext);
      }
    : undefined;

  return traceSqsBatch(tracing, async (event, context) => {
    const result = await dispatchRequests(event.Records, {
      jobs: batcher,
      statuses,
      work,
      deadLetters,
      scaler,
      versions,
      table,
      deadline: deadlineOf(context, env.deadlineMarginMs),
      packing: { maxJobs: env.maxJobsPerMessage, maxBytes: env.maxMessageBytes },
      ...(jobTrace ? { jobTrace } : {}),
    });
    const { stats, scale } = result;
    if (tracing.enabled) {
      recordBatchOutcome({ succeeded: stats.queued + stats.duplicates, deadLettered: stats.deadLettered });
    }
    metrics?.addMetric(DISPATCHER_METRICS.InferenceRequestsReceived, MetricUnit.Count, stats.received);
    metrics?.addMetric(DISPATCHER_METRICS.InferenceJobsQueued, MetricUnit.Count, stats.queued);
    metrics?.addMetric(DISPATCHER_METRICS.InferenceRequestsDuplicate, MetricUnit.Count, stats.duplicates);
    metrics?.addMetric(
      DISPATCHER_METRICS.InferenceRequestsDeadLettered,
      MetricUnit.Count,
      stats.deadLettered,
    );
    metrics?.addMetric(DISPATCHER_METRICS.InferenceRequestsRetried, MetricUnit.Count, stats.retried);
    metrics?.addMetric(DISPATCHER_METRICS.WorkMessagesSent, MetricUnit.Count, stats.workMessages);
    if (scale === 'scaled-from-zero')
      metrics?.addMetric(DISPATCHER_METRICS.WorkerScaledFromZero, MetricUnit.Count, 1);
    if (typeof scale === 'object') logger.warn('scale from zero failed', { error: scale.error });
    for (const problem of result.problems) logger.warn('request not dispatched', { ...problem });
    logger.info('batch dispatched', { ...stats, scale: typeof scale === 'string' ? scale : 'error' });
    return { batchItemFailures: result.batchItemFailures };
  });
}
