import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { RoutesConfig } from '../../pipeline/routing.ts';
import { writePathSettings } from '../../pipeline/settings.ts';
import { LocalResourceError } from '../errors.ts';

export interface TableSpec {
  readonly tableName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** DynamoDB type of the key attributes. @default 'S' */
  readonly keyType?: 'S' | 'N';
  /** Attribute (epoch seconds) DynamoDB expires items by; TTL is left off when unset. */
  readonly ttlAttribute?: string;
}

/**
 * Creates an on-demand table and waits until it is ACTIVE. DynamoDB Local accepts the TTL setting
 * but never deletes expired items.
 */
export async function createTable(client: DynamoDBClient, spec: TableSpec): Promise<void> {
  const keyType = spec.keyType ?? 'S';
  const keys = [spec.partitionKey, ...(spec.sortKey ? [spec.sortKey] : [])];
  try {
    const created = await client.send(
      new CreateTableCommand({
        TableName: spec.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((name) => ({ AttributeName: name, AttributeType: keyType })),
        KeySchema: keys.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      }),
    );
    if (created.TableDescription?.TableStatus !== 'ACTIVE') {
      await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: spec.tableName });
    }
    if (spec.ttlAttribute) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: spec.tableName,
          TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
        }),
      );
    }
  } catch (cause) {
    throw new LocalResourceError(`table ${spec.tableName}`, `could not be created: ${String(cause)}`, {
      cause,
    });
  }
}

export interface QueueSpec {
  readonly queueName: string;
  /** A FIFO queue; the name must end in `.fifo`. */
  readonly fifo?: boolean;
  readonly visibilityTimeoutSeconds?: number;
  readonly retentionSeconds?: number;
  /** Moves a message to `deadLetterTargetArn` after `maxReceiveCount` receives. */
  readonly redrive?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
  /** Further queue attributes, as CreateQueue takes them. */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface LocalQueue {
  readonly url: string;
  readonly arn: string;
}

/** Creates a queue and returns its URL and ARN. */
export async function createQueue(client: SQSClient, spec: QueueSpec): Promise<LocalQueue> {
  const attributes: Record<string, string> = { ...spec.attributes };
  if (spec.fifo) attributes.FifoQueue = 'true';
  if (spec.visibilityTimeoutSeconds !== undefined)
    attributes.VisibilityTimeout = String(spec.visibilityTimeoutSeconds);
  if (spec.retentionSeconds !== undefined) attributes.MessageRetentionPeriod = String(spec.retentionSeconds);
  if (spec.redrive) attributes.RedrivePolicy = JSON.stringify(spec.redrive);
  try {
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: spec.queueName, Attributes: attributes }),
    );
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    if (!QueueUrl || !Attributes?.QueueArn) throw new Error('CreateQueue returned no URL or ARN');
    return { url: QueueUrl, arn: Attributes.QueueArn };
  } catch (cause) {
    throw new LocalResourceError(`queue ${spec.queueName}`, `could not be created: ${String(cause)}`, {
      cause,
    });
  }
}

export interface WritePathResourcesOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Makes names unique (`items-<suffix>`, `ingest-<suffix>`). @default 8 random hex characters */
  readonly suffix?: string;
  readonly fifo?: boolean;
  /**
   * Receives before a message moves to the DLQ. local-aws-sqs counts a ChangeMessageVisibility as a
   * receive, so a heartbeat can exhaust a small count early. @default writePathSettings.queue.maxReceiveCount
   */
  readonly maxReceiveCount?: number;
  /** Lower it in tests so redelivery comes quickly. @default writePathSettings.queue.visibilityTimeoutSeconds */
  readonly visibilityTimeoutSeconds?: number;
}

/** The write path's local resources, as `createWritePathResources` made them. */
export interface WritePathResources {
  readonly tableName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  /** Routes for `shared/routing.ts`: the logical table `items` is the data table. */
  readonly routes: RoutesConfig;
  /** Deletes the table and both queues; what is already gone is skipped. */
  delete(): Promise<void>;
}

/**
 * Creates the data table, the ingest queue and its DLQ the way the CDK construct does (settings from
 * `writePathSettings`), under unique names.
 */
export async function createWritePathResources(
  options: WritePathResourcesOptions,
): Promise<WritePathResources> {
  const { dynamodb, sqs, fifo = false } = options;
  const { table, queue } = writePathSettings;
  const suffix = options.suffix ?? randomUUID().slice(0, 8);
  const ending = fifo ? '.fifo' : '';
  const tableName = `items-${suffix}`;
  const retentionSeconds = queue.retentionDays * 24 * 60 * 60;
  // As infra/constructs/secure-queue.ts: high-throughput FIFO with content-based deduplication.
  const fifoAttributes = fifo
    ? {
        ContentBasedDeduplication: 'true',
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      }
    : undefined;

  const [dlq] = await Promise.all([
    createQueue(sqs, {
      queueName: `ingest-dlq-${suffix}${ending}`,
      fifo,
      retentionSeconds,
      attributes: fifoAttributes,
    }),
    createTable(dynamodb, {
      tableName,
      partitionKey: table.partitionKey,
      sortKey: table.sortKey,
      ttlAttribute: table.ttlAttribute,
    }),
  ]);
  const ingest = await createQueue(sqs, {
    queueName: `ingest-${suffix}${ending}`,
    fifo,
    retentionSeconds,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds,
    redrive: {
      deadLetterTargetArn: dlq.arn,
      maxReceiveCount: options.maxReceiveCount ?? queue.maxReceiveCount,
    },
    attributes: fifoAttributes,
  });

  return {
    tableName,
    queueUrl: ingest.url,
    queueArn: ingest.arn,
    dlqUrl: dlq.url,
    dlqArn: dlq.arn,
    routes: {
      items: {
        tableName,
        partitionKey: table.partitionKey,
        sortKey: table.sortKey,
        keyType: 'S',
        ops: ['put', 'delete'],
      },
    },
    async delete() {
      await Promise.all([
        deleteTable(dynamodb, tableName),
        deleteQueue(sqs, ingest.url),
        deleteQueue(sqs, dlq.url),
      ]);
    },
  };
}

/** Deletes a table; a missing table is not an error. */
export async function deleteTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}

/** Deletes a queue; a missing queue is not an error. */
export async function deleteQueue(client: SQSClient, queueUrl: string): Promise<void> {
  try {
    await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
  }
}
