import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deadlineOf } from '../../shared/core/deadline.ts';
import {
  type PipelineConfig,
  type PipelineConfigInput,
  pipelineConfigParser,
  routerFor,
} from '../../shared/pipeline/config.ts';
import { SqsDeadLetterSink } from '../../shared/pipeline/dead-letter.ts';
import { BATCH_WRITER_METRICS } from '../../shared/pipeline/metric-names.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import {
  createSnapshotReader,
  type SnapshotContext,
  type SnapshotReader,
  snapshotMiddleware,
} from '../../shared/snapshots/index.ts';
import {
  flushTraces,
  recordBatchOutcome,
  type Tracing,
  traceSqsBatch,
  tracingOff,
} from '../../shared/tracing/index.ts';
import { WriteBatcher } from '../../shared/write-batcher/index.ts';
import { processIngestBatch } from './core.ts';
import type { BatchWriterEnv } from './env.ts';

export interface BatchWriterWiring {
  /** `debug` gets one line per stale write (`processIngestBatch`); `info` one per batch. */
  readonly logger: Pick<Logger, 'debug' | 'info' | 'warn'>;
  readonly metrics: Metrics;
  /**
   * DynamoDB endpoint of the function's clients (a local stack, a fault-injecting proxy).
   * @default the SDK's: `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL` or AWS
   */
  readonly dynamodbEndpoint?: string;
  /**
   * One span per batch linking to every message's trace context (`traceSqsBatch`), exported before
   * the invocation returns. @default tracingOff
   */
  readonly tracing?: Tracing;
}

/** One SQS batch in, the partial batch response out; `context.snapshot` is set by the snapshot middleware. */
export type IngestFunction = (
  event: SQSEvent,
  context: Context & Partial<SnapshotContext<PipelineConfig>>,
) => Promise<SQSBatchResponse>;

export interface IngestHandler {
  readonly ingest: IngestFunction;
  /** Set when `env.snapshots` is: the chain puts `snapshotMiddleware({ reader: snapshots })` last. */
  readonly snapshots?: SnapshotReader<PipelineConfig>;
}

/**
 * The batch writer's clients for `env`, created once, and the function that handles one SQS batch
 * of ingest messages. `handler.ts` wraps it in middy; local runs and tests build the same chain
 * around it with their own environment (`shared/local/write-path.ts`).
 */
export function createIngestHandler(env: BatchWriterEnv, wiring: BatchWriterWiring): IngestHandler {
  const { logger, metrics } = wiring;
  const tracing = wiring.tracing ?? tracingOff;
  const endpoint = wiring.dynamodbEndpoint === undefined ? {} : { endpoint: wiring.dynamodbEndpoint };
  // maxAttempts 1: the WriteBatcher owns retries, so they stay inside the deadline and are counted.
  const ddb = new DynamoDBClient({ maxAttempts: 1, ...endpoint });
  const deadLetters = new SqsDeadLetterSink(new SQSClient({ maxAttempts: 1 }), env.dlqUrl);

  // The environment's routing and write options are the bootstrap; once a `pipeline` snapshot is
  // published, the batch writer follows it (refreshed after its max age). A snapshot that routes to
  // a table outside GRANTED_TABLES is never adopted (the last good one stays).
  const parse = pipelineConfigParser(
    env.snapshots?.grantedTables ?? Object.values(env.routes).map((r) => r.tableName),
  );
  const bootstrap = parse(bootstrapConfig(env));
  const snapshots = env.snapshots
    ? createSnapshotReader<PipelineConfig>({
        client: new DynamoDBClient({ ...endpoint }),
        tableName: env.snapshots.tableName,
        name: env.snapshots.name,
        maxAgeMs: env.snapshots.maxAgeMs,
        parse,
        bootstrap,
        logger,
        metrics,
      })
    : undefined;

  const batchers = new Map<number, WriteBatcher>();
  const batcherFor = (maxConcurrency: number): WriteBatcher => {
    let batcher = batchers.get(maxConcurrency);
    if (!batcher) {
      const { versionAttribute, deletedAttribute, ttlAttribute, tombstoneTtlDays } = writePathSettings.table;
      batcher = new WriteBatcher({
        client: ddb,
        maxConcurrency,
        metrics,
        versionAttribute,
        deletedAttribute,
        ttlAttribute,
        tombstoneTtlDays,
      });
      batchers.set(maxConcurrency, batcher);
    }
    return batcher;
  };

  const ingest: IngestFunction = traceSqsBatch(tracing, async (event, context) => {
    const pipeline = context.snapshot?.data ?? bootstrap;
    const { batchItemFailures, summary } = await processIngestBatch(event.Records, {
      router: routerFor(pipeline),
      batcher: batcherFor(pipeline.writeOptions.maxConcurrency),
      deadLetters,
      deadline: deadlineOf(context, pipeline.writeOptions.deadlineMarginMs),
      logger,
    });
    const deadLettered = Object.values(summary.deadLettered).reduce((a, b) => a + b, 0);
    if (tracing.enabled) recordBatchOutcome({ succeeded: summary.succeeded, deadLettered });
    metrics.addMetric(BATCH_WRITER_METRICS.MessagesReceived, MetricUnit.Count, summary.records);
    metrics.addMetric(BATCH_WRITER_METRICS.MessagesDeadLettered, MetricUnit.Count, deadLettered);
    metrics.addMetric(BATCH_WRITER_METRICS.MessagesFailed, MetricUnit.Count, summary.failed);
    logger.info('batch processed', {
      records: summary.records,
      snapshotVersion: context.snapshot?.version,
      succeeded: summary.succeeded,
      failed: summary.failed,
      deadLettered: summary.deadLettered,
      writes: summary.writes,
    });
    return { batchItemFailures };
  });
  return snapshots ? { ingest, snapshots } : { ingest };
}

/**
 * The document the batch writer runs with before a `pipeline` snapshot is published: its routing and
 * write options. CDK renders the same into the snapshot publisher's `BOOTSTRAP_CONFIG`.
 */
export function bootstrapConfig(env: BatchWriterEnv): PipelineConfigInput {
  return {
    routing: env.routes,
    writeOptions: { maxConcurrency: env.maxConcurrency, deadlineMarginMs: env.deadlineMarginMs },
  };
}

/**
 * The deployed handler for `env`: `createIngestHandler` in the middy chain — the trace flush when
 * tracing is on, Powertools logger context, EMF metrics, then the snapshot middleware when the
 * function reads snapshots. `handler.ts` exports it for `process.env`; local runs and tests build
 * it for an explicit env.
 */
export function createBatchWriterHandler(
  env: BatchWriterEnv,
  wiring: BatchWriterWiring & { readonly logger: Logger },
) {
  const { logger, metrics, tracing } = wiring;
  const { ingest, snapshots } = createIngestHandler(env, wiring);
  const base = middy(ingest);
  // First in, so its `after` runs last: the batch span has ended inside `ingest` by then.
  const chain = (tracing?.enabled ? base.use(flushTraces({ tracing })) : base)
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics));
  return snapshots ? chain.use(snapshotMiddleware({ reader: snapshots })) : chain;
}
