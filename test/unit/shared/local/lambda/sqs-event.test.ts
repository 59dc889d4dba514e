import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { toSqsRecord } from '../../../../../shared/local/lambda/sqs-event.ts';

const source = { queueArn: 'arn:aws:sqs:eu-west-1:123456789012:ingest.fifo', region: 'eu-west-1' };

describe('toSqsRecord', () => {
  it("maps a received FIFO message to Lambda's record shape", () => {
    // Prepare
    const message: Message = {
      MessageId: 'm-1',
      ReceiptHandle: 'r-1',
      Body: '{"op":"put"}',
      MD5OfBody: 'md5-body',
      MD5OfMessageAttributes: 'md5-attributes',
      Attributes: {
        ApproximateReceiveCount: '2',
        SentTimestamp: '1000',
        SenderId: 'sender',
        ApproximateFirstReceiveTimestamp: '1100',
        MessageGroupId: 'g1',
        MessageDeduplicationId: 'd1',
        SequenceNumber: '42',
      },
      MessageAttributes: {
        trace: { DataType: 'String', StringValue: 't-1' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
      },
    };
    // Act
    const record = toSqsRecord(message, source);
    // Assess
    expect(record).toEqual({
      messageId: 'm-1',
      receiptHandle: 'r-1',
      body: '{"op":"put"}',
      attributes: {
        ApproximateReceiveCount: '2',
        SentTimestamp: '1000',
        SenderId: 'sender',
        ApproximateFirstReceiveTimestamp: '1100',
        MessageGroupId: 'g1',
        MessageDeduplicationId: 'd1',
        SequenceNumber: '42',
      },
      messageAttributes: {
        trace: { dataType: 'String', stringValue: 't-1', stringListValues: [], binaryListValues: [] },
        blob: { dataType: 'Binary', binaryValue: 'aGk=', stringListValues: [], binaryListValues: [] },
      },
      md5OfBody: 'md5-body',
      md5OfMessageAttributes: 'md5-attributes',
      eventSource: 'aws:sqs',
      eventSourceARN: source.queueArn,
      awsRegion: 'eu-west-1',
    });
  });

  it('leaves FIFO attributes out for a standard-queue message', () => {
    // Prepare
    const message: Message = {
      MessageId: 'm-2',
      ReceiptHandle: 'r-2',
      Body: 'x',
      Attributes: { SenderId: 's' },
    };
    // Act
    const record = toSqsRecord(message, source);
    // Assess
    expect(Object.keys(record.attributes).sort()).toEqual([
      'ApproximateFirstReceiveTimestamp',
      'ApproximateReceiveCount',
      'SenderId',
      'SentTimestamp',
    ]);
    expect(record.messageAttributes).toEqual({});
    expect(record).not.toHaveProperty('md5OfMessageAttributes');
  });
});
