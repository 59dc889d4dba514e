import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { localClientConfig } from '../../../shared/local/aws/client-config.ts';
import { startSqsLocal } from '../../../shared/local/aws/sqs-local.ts';

describe('local-aws-sqs in a child process', () => {
  it('serves SQS on an ephemeral loopback port and stops with its process', async () => {
    // Prepare
    const sqsLocal = await startSqsLocal('us-east-1', 'child-process');
    const sqs = new SQSClient(localClientConfig(sqsLocal.endpoint, 'us-east-1'));
    try {
      // Act
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'child-test' }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
      // Assess
      expect(sqsLocal.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(Messages?.map((m) => m.Body)).toEqual(['hello']);
    } finally {
      await sqsLocal.stop();
      sqs.destroy();
    }
    await expect(fetch(sqsLocal.endpoint)).rejects.toThrow();
  });
});
