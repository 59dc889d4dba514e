import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SqsEventSourcePoller, type SqsPollerOptions } from './poller.ts';
import {
  createWritePathResources,
  type WritePathResources,
  type WritePathResourcesOptions,
} from './resources.ts';

export interface LocalWritePathOptions extends Omit<WritePathResourcesOptions, 'dynamodb' | 'sqs'> {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Extra environment for the handler (e.g. POWERTOOLS_* or an endpoint override). */
  readonly handlerEnv?: Readonly<Record<string, string>>;
  /** Poller settings; defaults are the deployed event source's (`writePathSettings`). */
  readonly poller?: Partial<Omit<SqsPollerOptions, 'sqs' | 'queueUrl' | 'queueArn' | 'handler'>>;
}

export interface LocalWritePath {
  readonly resources: WritePathResources;
  readonly poller: SqsEventSourcePoller;
}

/**
 * The write path on a local (or LocalStack) endpoint: creates the table, ingest queue and DLQ, sets
 * the environment the deployed function gets, imports the real batch-writer handler (it reads its
 * environment at import, as on Lambda) and starts the event-source poller that feeds it.
 * One per process: the handler module is imported once.
 */
export async function startLocalWritePath(options: LocalWritePathOptions): Promise<LocalWritePath> {
  const { handlerEnv, poller: pollerOptions, ...resourceOptions } = options;
  const resources = await createWritePathResources(resourceOptions);
  Object.assign(process.env, {
    TABLE_ROUTES: JSON.stringify(resources.routes),
    DLQ_URL: resources.dlqUrl,
    POWERTOOLS_SERVICE_NAME: 'batch-writer',
    ...handlerEnv,
  });
  const { handler } = await import('../../functions/batch-writer/handler.ts');
  const poller = new SqsEventSourcePoller({
    sqs: options.sqs,
    queueUrl: resources.queueUrl,
    queueArn: resources.queueArn,
    handler,
    ...pollerOptions,
  });
  await poller.start();
  return { resources, poller };
}
