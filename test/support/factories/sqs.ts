import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';

let sequence = 0;

/** A Lambda SQS record carrying `body` (an object is JSON-encoded). */
export function sqsRecord(body: unknown, options: { groupId?: string; messageId?: string } = {}): SQSRecord {
  sequence++;
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: `receipt-${sequence}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(options.groupId ? { MessageGroupId: options.groupId, SequenceNumber: String(sequence) } : {}),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:ingest',
    awsRegion: 'us-east-1',
  };
}
