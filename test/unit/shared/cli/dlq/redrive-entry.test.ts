import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { redriveEntry } from '../../../../../shared/cli/dlq/redrive-entry.ts';

const letter = (attributes: Message['MessageAttributes'], system: Message['Attributes'] = {}): Message => ({
  MessageId: 'dlq-1',
  Body: '{"op":"put"}',
  MessageAttributes: attributes,
  Attributes: system,
});

describe('redriveEntry', () => {
  it("drops the dead-letter reasons, keeps the producer's attributes and marks the redrive", () => {
    // Act
    const entry = redriveEntry(
      letter({
        ErrorCode: { DataType: 'String', StringValue: 'UNKNOWN_TABLE' },
        ErrorMessage: { DataType: 'String', StringValue: 'no route' },
        SourceMessageId: { DataType: 'String', StringValue: 'orig-1' },
        Tenant: { DataType: 'String', StringValue: 'acme', StringListValues: [] },
        RedriveCount: { DataType: 'Number', StringValue: '2' },
      }),
      false,
    );
    // Assess
    expect(entry).toEqual({
      MessageBody: '{"op":"put"}',
      MessageAttributes: {
        SourceMessageId: { DataType: 'String', StringValue: 'orig-1' },
        Tenant: { DataType: 'String', StringValue: 'acme' },
        RedriveCount: { DataType: 'Number', StringValue: '3' },
        RedriveSourceMessageId: { DataType: 'String', StringValue: 'dlq-1' },
      },
    });
  });

  it('keeps the FIFO group and derives a stable deduplication ID from the DLQ message', () => {
    const entry = redriveEntry(letter({}, { MessageGroupId: 'g7', AWSTraceHeader: 'Root=1-abc' }), true);
    expect(entry).toMatchObject({
      MessageGroupId: 'g7',
      MessageDeduplicationId: 'redrive-dlq-1',
      MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-abc' } },
    });
  });

  it('leaves the markers out when the message already has ten attributes', () => {
    const ten = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`A${i}`, { DataType: 'String', StringValue: 'v' }]),
    );
    const entry = redriveEntry(letter(ten), false);
    expect(Object.keys(entry.MessageAttributes!)).toHaveLength(10);
    expect(entry.MessageAttributes!.RedriveCount).toBeUndefined();
  });
});
