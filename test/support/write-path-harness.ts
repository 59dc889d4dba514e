import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SqsEventSourcePoller } from '../../shared/local/lambda/poller.ts';
import type { WritePathResources } from '../../shared/local/resources/write-path.ts';
import { type LocalWritePathOptions, startLocalWritePath } from '../../shared/local/write-path.ts';
import type { PipelineConfigInput } from '../../shared/pipeline/config.ts';

export interface WritePathHarness {
  readonly resources: WritePathResources;
  readonly poller: SqsEventSourcePoller;
  /** The GRANTED_TABLES the batch writer got: the items table and `dataTables`. */
  readonly grantedTables: readonly string[];
  /** The batch writer's bootstrap document, for a publisher on the same snapshots. */
  readonly bootstrap: PipelineConfigInput;
  /** Sends raw bodies (objects are JSON-encoded), ten per request, in order. */
  send(bodies: readonly unknown[], options?: { groupId?: (i: number) => string }): Promise<void>;
  /** Waits until the ingest queue is empty and no invocation runs. */
  drain(timeoutMs?: number): Promise<void>;
  /** Every item in the data table, keyed by pk. */
  items(): Promise<Map<string, Record<string, unknown>>>;
  /** Every message in the DLQ with its ErrorCode attribute. */
  deadLetters(): Promise<Array<{ body: string; errorCode: string; errorMessage: string }>>;
  stop(): Promise<void>;
}

/**
 * The write path on the embedded stack: unique table + ingest queue + DLQ, the batch writer built
 * by its own factory with the deployed middy chain, and the local event-source poller driving it.
 * Each call makes a write path of its own; several can run in one test file.
 */
export async function startWritePath(
  options: {
    fifo?: boolean;
    dynamodbEndpoint?: string;
    batchSize?: number;
    /** The function timeout; the ingest queue's visibility timeout is the same, rounded up to seconds. @default 5000 */
    timeoutMs?: number;
    /** The config snapshot the batch writer follows. @default none */
    snapshots?: LocalWritePathOptions['snapshots'];
    /** Other tables a config snapshot may route to (GRANTED_TABLES), as WritePath's dataTables. */
    dataTables?: readonly string[];
  } = {},
): Promise<WritePathHarness> {
  const sqs = new SQSClient({});
  const dynamodb = new DynamoDBClient({});
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { resources, poller, grantedTables, bootstrap } = await startLocalWritePath({
    dynamodb,
    sqs,
    fifo: options.fifo,
    ...(options.dataTables ? { dataTables: options.dataTables } : {}),
    // Lambda requires the visibility timeout to cover the function timeout; any longer only slows redelivery.
    visibilityTimeoutSeconds: Math.ceil(timeoutMs / 1000),
    maxReceiveCount: 3,
    ...(options.snapshots ? { snapshots: options.snapshots } : {}),
    ...(options.dynamodbEndpoint ? { dynamodbEndpoint: options.dynamodbEndpoint } : {}),
    logger: new Logger({ serviceName: 'batch-writer', logLevel: 'WARN' }),
    metrics: new QuietMetrics({ serviceName: 'batch-writer' }),
    poller: {
      batchSize: options.batchSize ?? (options.fifo ? 10 : 100),
      maxBatchingWindowMs: 200,
      maxConcurrency: options.fifo ? 1 : 4,
      timeoutMs,
      idleWaitSeconds: 1,
    },
  });

  return {
    resources,
    poller,
    grantedTables,
    bootstrap,
    async send(bodies, sendOptions = {}) {
      for (let start = 0; start < bodies.length; start += 10) {
        const entries: SendMessageBatchRequestEntry[] = bodies.slice(start, start + 10).map((body, j) => ({
          Id: String(j),
          MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
          ...(sendOptions.groupId
            ? {
                MessageGroupId: sendOptions.groupId(start + j),
                MessageDeduplicationId: `m${start + j}-${Date.now()}`,
              }
            : {}),
        }));
        const out = await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: resources.queueUrl, Entries: entries }),
        );
        if (out.Failed?.length) throw new Error(`send failed: ${JSON.stringify(out.Failed)}`);
      }
    },
    drain: (timeoutMs = 60_000) => poller.drain({ timeoutMs }),
    async items() {
      const items = new Map<string, Record<string, unknown>>();
      let start: Record<string, never> | undefined;
      do {
        const page = await dynamodb.send(
          new ScanCommand({ TableName: resources.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        for (const raw of page.Items ?? []) {
          const item = unmarshall(raw);
          items.set(String(item.pk), item);
        }
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start);
      return items;
    },
    async deadLetters() {
      const letters: Message[] = [];
      for (let empty = 0; empty < 2; ) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: resources.dlqUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ['All'],
            VisibilityTimeout: 300,
            WaitTimeSeconds: 0,
          }),
        );
        if (!out.Messages?.length) empty++;
        else letters.push(...out.Messages);
      }
      return letters.map((m) => ({
        body: m.Body ?? '',
        errorCode: m.MessageAttributes?.ErrorCode?.StringValue ?? '(none)',
        errorMessage: m.MessageAttributes?.ErrorMessage?.StringValue ?? '',
      }));
    },
    async stop() {
      await poller.stop();
      await resources.delete();
    },
  };
}

/** Metrics that keep nothing and print no EMF: as `POWERTOOLS_METRICS_DISABLED`, without the environment. */
class QuietMetrics extends Metrics {
  override publishStoredMetrics(): this {
    this.clearMetrics();
    this.clearDimensions();
    this.clearMetadata();
    return this;
  }
}
