import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BatchWriterEnv } from '../../functions/batch-writer/env.ts';
import { bootstrapConfig, createBatchWriterHandler } from '../../functions/batch-writer/wiring.ts';
import type { PipelineConfigInput } from '../pipeline/config.ts';
import { writePathSettings } from '../pipeline/settings.ts';
import { snapshotSettings } from '../snapshots/index.ts';
import { SqsEventSourcePoller, type SqsPollerOptions } from './lambda/poller.ts';
import {
  createWritePathResources,
  type WritePathResources,
  type WritePathResourcesOptions,
} from './resources/write-path.ts';

export interface LocalWritePathOptions extends Omit<WritePathResourcesOptions, 'dynamodb' | 'sqs'> {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /**
   * Other tables a config snapshot may route writes to, besides the items table (`GRANTED_TABLES`),
   * as the WritePath construct's `dataTables`. @default none
   */
  readonly dataTables?: readonly string[];
  /**
   * The config snapshot the batch writer follows (`SNAPSHOTS_TABLE`, `SNAPSHOT_NAME`,
   * `SNAPSHOT_MAX_AGE_MS`). @default none: the batch writer runs on its bootstrap alone
   */
  readonly snapshots?: {
    readonly tableName: string;
    /** @default snapshotSettings.defaultName (`pipeline`) */
    readonly name?: string;
    /** @default snapshotSettings.maxAgeMs */
    readonly maxAgeMs?: number;
  };
  /** @default a Powertools Logger for `batch-writer`, configured by `POWERTOOLS_*` as on Lambda */
  readonly logger?: Logger;
  /** @default Powertools Metrics for `batch-writer`, configured by `POWERTOOLS_*` as on Lambda */
  readonly metrics?: Metrics;
  /** The batch writer's DynamoDB endpoint, e.g. a fault-injecting proxy. @default the SDK's */
  readonly dynamodbEndpoint?: string;
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
 * The write path on a local (or LocalStack) endpoint: creates the table, ingest queue and DLQ, builds
 * the batch writer from the environment the deployed function gets (GRANTED_TABLES included) and
 * starts the event-source poller that feeds it. Its configuration comes from `options`, never from
 * `process.env` (Powertools and the SDK still read their own `POWERTOOLS_*` and `AWS_*`), so several
 * can run in one process.
 */
export async function startLocalWritePath(options: LocalWritePathOptions): Promise<LocalWritePath> {
  const {
    poller: pollerOptions,
    dataTables,
    snapshots,
    logger,
    metrics,
    dynamodbEndpoint,
    ...rest
  } = options;
  const resources = await createWritePathResources(rest);
  const grantedTables = [resources.tableName, ...(dataTables ?? [])];
  const env: BatchWriterEnv = {
    routes: resources.routes,
    dlqUrl: resources.dlqUrl,
    maxConcurrency: writePathSettings.function.maxConcurrency,
    deadlineMarginMs: writePathSettings.function.deadlineMarginMs,
    ...(snapshots
      ? {
          snapshots: {
            tableName: snapshots.tableName,
            name: snapshots.name ?? snapshotSettings.defaultName,
            maxAgeMs: snapshots.maxAgeMs ?? snapshotSettings.maxAgeMs,
            grantedTables,
          },
        }
      : {}),
  };
  const handler = createBatchWriterHandler(env, {
    logger: logger ?? new Logger({ serviceName: 'batch-writer' }),
    metrics: metrics ?? new Metrics({ serviceName: 'batch-writer' }),
    ...(dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint }),
  });
  const poller = new SqsEventSourcePoller({
    sqs: options.sqs,
    queueUrl: resources.queueUrl,
    queueArn: resources.queueArn,
    handler,
    ...pollerOptions,
  });
  await poller.start();
  // What CDK renders into the publisher's BOOTSTRAP_CONFIG, from the same environment.
  return { resources, poller, grantedTables, bootstrap: bootstrapConfig(env) };
}
