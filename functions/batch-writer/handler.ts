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
import { Router } from '../../shared/routing.ts';
import { SqsDeadLetterSink } from '../../shared/sqs/dead-letter.ts';
import { processIngestBatch } from './core.ts';

const env = batchWriterEnv();
const logger = new Logger({ serviceName: 'batch-writer' });
const metrics = new Metrics({ serviceName: 'batch-writer' });
// maxAttempts 1: the WriteBatcher owns retries, so they stay inside the deadline and are counted.
const batcher = new WriteBatcher({
  client: new DynamoDBClient({ maxAttempts: 1 }),
  maxConcurrency: env.maxConcurrency,
  metrics,
});
const deadLetters = new SqsDeadLetterSink(new SQSClient({ maxAttempts: 1 }), env.dlqUrl);
const router = new Router(env.routes);

async function ingest(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { batchItemFailures, summary } = await processIngestBatch(event.Records, {
    router,
    batcher,
    deadLetters,
    deadline: deadlineOf(context, env.deadlineMarginMs),
  });
  const deadLettered = Object.values(summary.deadLettered).reduce((a, b) => a + b, 0);
  metrics.addMetric('MessagesReceived', MetricUnit.Count, summary.records);
  metrics.addMetric('MessagesDeadLettered', MetricUnit.Count, deadLettered);
  metrics.addMetric('MessagesFailed', MetricUnit.Count, summary.failed);
  logger.info('batch processed', {
    records: summary.records,
    succeeded: summary.succeeded,
    failed: summary.failed,
    deadLettered: summary.deadLettered,
    writes: summary.writes,
  });
  return { batchItemFailures };
}

export const handler = middy(ingest)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));
