import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { WriteBatcher } from '../../shared/dynamodb/write-batcher/write-batcher.ts';
import { batchWriterEnv } from '../../shared/env.ts';
import { deadlineOf } from '../../shared/lambda/deadline.ts';
import { snapshotReaderEnv } from '../../shared/snapshots/env.ts';
import { type SnapshotContext, snapshotMiddleware } from '../../shared/snapshots/middleware.ts';
import {
  type PipelineConfig,
  pipelineConfigParser,
  routerFor,
} from '../../shared/snapshots/pipeline-config.ts';
import { createSnapshotReader } from '../../shared/snapshots/reader.ts';
import { SqsDeadLetterSink } from '../../shared/sqs/dead-letter.ts';
import { processIngestBatch } from './core.ts';

const env = batchWriterEnv();
const logger = new Logger({ serviceName: 'batch-writer' });
const metrics = new Metrics({ serviceName: 'batch-writer' });
// maxAttempts 1: the WriteBatcher owns retries, so they stay inside the deadline and are counted.
const ddb = new DynamoDBClient({ maxAttempts: 1 });
const deadLetters = new SqsDeadLetterSink(new SQSClient({ maxAttempts: 1 }), env.dlqUrl);

// The environment's routing and write options are the bootstrap; once a `pipeline` snapshot is
// published, the batch writer follows it (refreshed after its max age). A snapshot that routes to a
// table outside GRANTED_TABLES is never adopted (the last good one stays).
const snapshots = snapshotReaderEnv();
const parse = pipelineConfigParser(
  snapshots?.grantedTables ?? Object.values(env.routes).map((r) => r.tableName),
);
const bootstrap = parse({
  routing: env.routes,
  writeOptions: { maxConcurrency: env.maxConcurrency, deadlineMarginMs: env.deadlineMarginMs },
});
const config = snapshots
  ? createSnapshotReader<PipelineConfig>({
      client: new DynamoDBClient({}),
      tableName: snapshots.tableName,
      name: snapshots.name,
      maxAgeMs: snapshots.maxAgeMs,
      parse,
      bootstrap,
      logger,
      metrics,
    })
  : undefined;

const batchers = new Map<number, WriteBatcher>();
function batcherFor(maxConcurrency: number): WriteBatcher {
  let batcher = batchers.get(maxConcurrency);
  if (!batcher) {
    batcher = new WriteBatcher({ client: ddb, maxConcurrency, metrics });
    batchers.set(maxConcurrency, batcher);
  }
  return batcher;
}

async function ingest(
  event: SQSEvent,
  context: Context & Partial<SnapshotContext<PipelineConfig>>,
): Promise<SQSBatchResponse> {
  const pipeline = context.snapshot?.data ?? bootstrap;
  const { batchItemFailures, summary } = await processIngestBatch(event.Records, {
    router: routerFor(pipeline),
    batcher: batcherFor(pipeline.writeOptions.maxConcurrency),
    deadLetters,
    deadline: deadlineOf(context, pipeline.writeOptions.deadlineMarginMs),
  });
  const deadLettered = Object.values(summary.deadLettered).reduce((a, b) => a + b, 0);
  metrics.addMetric('MessagesReceived', MetricUnit.Count, summary.records);
  metrics.addMetric('MessagesDeadLettered', MetricUnit.Count, deadLettered);
  metrics.addMetric('MessagesFailed', MetricUnit.Count, summary.failed);
  logger.info('batch processed', {
    records: summary.records,
    snapshotVersion: context.snapshot?.version,
    succeeded: summary.succeeded,
    failed: summary.failed,
    deadLettered: summary.deadLettered,
    writes: summary.writes,
  });
  return { batchItemFailures };
}

const chain = middy(ingest)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));
export const handler = config ? chain.use(snapshotMiddleware({ reader: config })) : chain;
