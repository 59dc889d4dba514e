import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createWritePathResources } from '../../../shared/local/resources/write-path.ts';

const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});

describe('createWritePathResources', () => {
  it('creates the table, the ingest queue and its DLQ as the CDK construct does', async () => {
    // Act
    const resources = await createWritePathResources({
      dynamodb,
      sqs,
      visibilityTimeoutSeconds: 7,
      maxReceiveCount: 9,
    });
    // Assess
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: resources.tableName }));
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: resources.tableName }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: resources.queueUrl, AttributeNames: ['All'] }),
    );
    await resources.delete();
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: '_expiresAt',
      TimeToLiveStatus: 'ENABLED',
    });
    expect(Attributes?.VisibilityTimeout).toBe('7');
    expect(Attributes?.MessageRetentionPeriod).toBe(String(14 * 24 * 60 * 60));
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: resources.dlqArn,
      maxReceiveCount: 9,
    });
    expect(resources.routes.items).toMatchObject({
      tableName: resources.tableName,
      partitionKey: 'pk',
      sortKey: 'sk',
    });
  });

  it('creates FIFO queues with content-based deduplication', async () => {
    // Act
    const resources = await createWritePathResources({ dynamodb, sqs, fifo: true });
    // Assess
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: resources.queueUrl, AttributeNames: ['All'] }),
    );
    await resources.delete();
    expect(resources.queueUrl).toMatch(/\.fifo$/);
    expect(resources.dlqUrl).toMatch(/\.fifo$/);
    expect(Attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'true' });
  });

  it('deletes what it created', async () => {
    // Prepare
    const resources = await createWritePathResources({ dynamodb, sqs });
    // Act
    await resources.delete();
    // Assess
    await expect(dynamodb.send(new DescribeTableCommand({ TableName: resources.tableName }))).rejects.toThrow(
      ResourceNotFoundException,
    );
    await expect(
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: resources.queueUrl, AttributeNames: ['QueueArn'] })),
    ).rejects.toThrow(QueueDoesNotExist);
  });
});
