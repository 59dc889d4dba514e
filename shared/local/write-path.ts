import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { batchWriterEnv } from '../env.ts';
import type { PipelineConfigInput } from '../snapshots/pipeline-config.ts';
import { SqsEventSourcePoller, type SqsPollerOptions } from './poller.ts';
import {
  createWritePathResources,
  type WritePathResources,
  type WritePathResourcesOptions,
} from './resources.ts';

export interface LocalWritePathOptions extends Omit<WritePathResourcesOptions, 'dynamodb' | 'sqs'> {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /**
   * Other tables a config snapshot may route writes to, besides the items table (`GRANTED_TABLES`),
   * as the WritePath construct's `dataTables`. @default none
   */
  readonly dataTables?: readonly string[];
  /** Extra environment for the handler (e.g. POWERTOOLS_* or an endpoint override). */
  readonly handlerEnv?: Readonly<Record<string, string>>;
  /** Poller settings; defaults are the deployed event source's (`writePathSettings`). */
  readonly poller?: Partial<Omit<SqsPollerOptions, 'sqs' | 'queueUrl' | 'queueArn' | 'handler'>>;
}

export interface LocalWritePath {
  readonly resources: WritePathResources;
  readonly poller: SqsEventSourcePoller;
  /** `GRANTED_TABLES`: the items table and `dataTables`; hand them to a local snapshot publisher. */
  readonly grantedTables: readonly string[];
  /** The batch writer's bootstrap document (its routing and write options), for a local publisher. */
  readonly bootstrap: PipelineConfigInput;
}

/**
 * The write path on a local (or LocalStack) endpoint: creates the table, ingest queue and DLQ, sets
 * the environment the deployed function gets (GRANTED_TABLES included), imports the real batch-writer handler (it reads its
 * environment at import, as on Lambda) and starts the event-source poller that feeds it.
 * One per process: the handler module is imported once.
 */
export async function startLocalWritePath(options: LocalWritePathOptions): Promise<LocalWritePath> {
  const { handlerEnv, poller: pollerOptions, dataTables, ...resourceOptions } = options;
  const resources = await createWritePathResources(resourceOptions);
  const grantedTables = [resources.tableName, ...(dataTables ?? [])];
  Object.assign(process.env, {
    TABLE_ROUTES: JSON.stringify(resources.routes),
    DLQ_URL: resources.dlqUrl,
    GRANTED_TABLES: JSON.stringify(grantedTables),
    POWERTOOLS_SERVICE_NAME: 'batch-writer',
    ...handlerEnv,
  });
  // What CDK renders into the publisher's BOOTSTRAP_CONFIG, from the same variables.
  const env = batchWriterEnv();
  const bootstrap: PipelineConfigInput = {
    routing: env.routes,
    writeOptions: { maxConcurrency: env.maxConcurrency, deadlineMarginMs: env.deadlineMarginMs },
  };
  const { handler } = await import('../../functions/batch-writer/handler.ts');
  const poller = new SqsEventSourcePoller({
    sqs: options.sqs,
    queueUrl: resources.queueUrl,
    queueArn: resources.queueArn,
    handler,
    ...pollerOptions,
  });
  await poller.start();
  return { resources, poller, grantedTables, bootstrap };
}
