import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createSnapshotTable, snapshotSettings } from '../../snapshots/index.ts';
import { createQueue, deleteQueue, deleteTable } from './write-path.ts';

export interface SnapshotResourcesOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Makes names unique. @default 8 random hex characters */
  readonly suffix?: string;
  /** Use this snapshots table (created when missing) instead of `snapshots-<suffix>`. */
  readonly tableName?: string;
}

/** The snapshot store's local resources, as `createSnapshotResources` made them. */
export interface SnapshotResources {
  readonly tableName: string;
  /** FIFO config-changes queue; its producers set MessageGroupId and a unique MessageDeduplicationId. */
  readonly changesQueueUrl: string;
  readonly changesQueueArn: string;
  readonly changesDlqUrl: string;
  /** Deletes the queues, and the table when this call created its name. */
  delete(): Promise<void>;
}

/**
 * Creates the snapshots table and the FIFO config-changes queue with its DLQ the way the CDK
 * construct does (`infra/constructs/snapshots.ts`), for `npm start`, `npm run local` and tests.
 */
export async function createSnapshotResources(options: SnapshotResourcesOptions): Promise<SnapshotResources> {
  const { dynamodb, sqs } = options;
  const suffix = options.suffix ?? randomUUID().slice(0, 8);
  const tableName = options.tableName ?? `snapshots-${suffix}`;
  const { publisher } = snapshotSettings;
  const fifo = {
    ContentBasedDeduplication: 'false',
    DeduplicationScope: 'messageGroup',
    FifoThroughputLimit: 'perMessageGroupId',
  };
  const [dlq] = await Promise.all([
    createQueue(sqs, { queueName: `config-changes-dlq-${suffix}.fifo`, fifo: true, attributes: fifo }),
    createSnapshotTable(dynamodb, tableName),
  ]);
  const changes = await createQueue(sqs, {
    queueName: `config-changes-${suffix}.fifo`,
    fifo: true,
    visibilityTimeoutSeconds: 6 * publisher.timeoutSeconds,
    redrive: { deadLetterTargetArn: dlq.arn, maxReceiveCount: publisher.maxReceiveCount },
    attributes: fifo,
  });
  return {
    tableName,
    changesQueueUrl: changes.url,
    changesQueueArn: changes.arn,
    changesDlqUrl: dlq.url,
    async delete() {
      await Promise.all([
        deleteQueue(sqs, changes.url),
        deleteQueue(sqs, dlq.url),
        ...(options.tableName === undefined ? [deleteTable(dynamodb, tableName)] : []),
      ]);
    },
  };
}
