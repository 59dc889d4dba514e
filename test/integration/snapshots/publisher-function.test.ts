import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SnapshotPublisher } from '../../../shared/snapshots/publisher.ts';
import { sqsRecord } from '../../support/factories/sqs.ts';
import { type SnapshotFixture, snapshotFixture } from './support.ts';

const route = (tableName: string) => ({ tableName, partitionKey: 'pk', sortKey: 'sk' });

function lambdaContext(): Context {
  return {
    functionName: 'snapshot-publisher',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:snapshot-publisher',
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/snapshot-publisher',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

// The deployed handler module (clients at module scope, env read at import) against the
// embedded DynamoDB and SQS.
describe('snapshot publisher Lambda', () => {
  let fx: SnapshotFixture;
  let sqs: SQSClient;
  let dlqUrl: string;
  let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

  beforeAll(async () => {
    fx = await snapshotFixture();
    sqs = new SQSClient({});
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: `config-changes-dlq-${randomUUID().slice(0, 8)}.fifo`,
        Attributes: { FifoQueue: 'true' },
      }),
    );
    dlqUrl = created.QueueUrl!;
    Object.assign(process.env, {
      SNAPSHOTS_TABLE: fx.tableName,
      DLQ_URL: dlqUrl,
      GRANTED_TABLES: JSON.stringify(['items-table', 'orders-table']),
      BOOTSTRAP_CONFIG: JSON.stringify({ routing: { items: route('items-table') } }),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    ({ handler } = await import('../../../functions/snapshot-publisher/handler.ts'));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    sqs.destroy();
    await fx.dispose();
  });

  it('publishes one version per batch and dead-letters invalid changes with their reason', async () => {
    // Prepare
    await new SnapshotPublisher({ store: fx.store }).publish('pipeline', {
      routing: { items: route('items-table') },
    });
    const records = [
      sqsRecord({ op: 'set', path: 'routing.orders', value: route('orders-table') }, { groupId: 'config' }),
      sqsRecord({ op: 'set', path: 'routing.items.partitionKey', value: '' }, { groupId: 'config' }),
      sqsRecord({ op: 'set', path: 'models.classifier', value: { version: 'v7' } }, { groupId: 'config' }),
    ];
    // Act
    const response = await handler({ Records: records }, lambdaContext());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const { data, manifest, pointer } = await fx.publisher.read('pipeline');
    expect(pointer).toMatchObject({ generation: 2, stable: 2, updatedBy: 'lambda:snapshot-publisher' });
    expect(manifest.source).toBe('lambda:snapshot-publisher');
    expect(data).toMatchObject({ routing: { orders: {} }, models: { classifier: { version: 'v7' } } });
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    expect(Messages).toHaveLength(1);
    expect(Messages![0]!.Body).toBe(records[1]!.body);
    expect(Messages![0]!.MessageAttributes?.ErrorCode?.StringValue).toBe('CHANGE_REJECTED');
    expect(Messages![0]!.MessageAttributes?.ErrorMessage?.StringValue).toMatch(
      /routing\.items\.partitionKey/,
    );
  });
});
