import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deadlineOf } from '../../shared/core/deadline.ts';
import { PIPELINE_CONFIG_SCHEMA_VERSION, pipelineConfigParser } from '../../shared/pipeline/config.ts';
import { SqsDeadLetterSink } from '../../shared/pipeline/dead-letter.ts';
import { DynamoDbSnapshotStore, SnapshotPublisher } from '../../shared/snapshots/index.ts';
import { processConfigChanges } from './core.ts';
import type { SnapshotPublisherEnv } from './env.ts';

/** Chunk writes stop retrying this long before the Lambda deadline, leaving time to report. */
const DEADLINE_MARGIN_MS = 5_000;

export interface PublisherWiring {
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
}

export type ConfigChangeFunction = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The publisher's clients for `env`, created once, and the function that handles one SQS batch of
 * config changes. `handler.ts` wraps it in middy; `npm start` and tests run it through the local
 * event-source poller with their own environment.
 */
export function createConfigChangeHandler(
  env: SnapshotPublisherEnv,
  wiring: PublisherWiring = {},
): ConfigChangeFunction {
  const validate = pipelineConfigParser(env.grantedTables);
  // Checked once, at cold start: a bootstrap that routes to a table not granted is a deployment
  // error, not something a change could fix.
  const bootstrap = validate(env.bootstrap);
  const store = new DynamoDbSnapshotStore({ client: new DynamoDBClient({}), tableName: env.tableName });
  const publisher = new SnapshotPublisher({
    store,
    validate,
    schemaVersion: PIPELINE_CONFIG_SCHEMA_VERSION,
  });
  const deadLetters = new SqsDeadLetterSink(new SQSClient({ maxAttempts: 1 }), env.dlqUrl);
  return (event, context) =>
    processConfigChanges(event.Records, {
      publisher,
      name: env.name,
      validate,
      bootstrap,
      deadLetters,
      source: `lambda:${context.functionName}`,
      deadline: deadlineOf(context, DEADLINE_MARGIN_MS),
      maxAttempts: env.maxAttempts,
      ...wiring,
    });
}
