/**
 * The message the mover sends for a dead letter: the same body, the producer's attributes without
 * the dead-letter reasons, two redrive markers, and for FIFO the same group with a deduplication
 * ID derived from the DLQ message (stable across reruns, so SQS drops a re-sent copy).
 */

import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { entryBytes, sqsLimits } from '../../sqs/index.ts';
import { deadLetterAttributes } from './letters.ts';

/** Message attributes the mover adds to each message it sends. */
export const redriveAttributes = {
  /** How many times the message was redriven (1 the first time). */
  count: 'RedriveCount',
  /** The DLQ MessageId it was moved from: copies of a possibly duplicated send share it. */
  sourceMessageId: 'RedriveSourceMessageId',
} as const;

/** SQS's limit on message attributes per message. */
const MAX_MESSAGE_ATTRIBUTES = 10;
/** FIFO group of a message that has none (a standard DLQ redriven to a FIFO queue cannot happen; kept safe). */
const FALLBACK_GROUP = 'redrive';

/** The deduplication ID of a redriven FIFO message. */
export function redriveDeduplicationId(dlqMessageId: string): string {
  return `redrive-${dlqMessageId}`.slice(0, 128);
}

/**
 * The SendMessageBatch entry (without `Id`) for `message`. The markers are left out when the
 * message already has too many attributes or is too close to SQS's size limit to carry them.
 */
export function redriveEntry(message: Message, fifo: boolean): Omit<SendMessageBatchRequestEntry, 'Id'> {
  const body = message.Body ?? '';
  const kept: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (name === deadLetterAttributes.errorCode || name === deadLetterAttributes.errorMessage) continue;
    kept[name] = attributeValue(value);
  }
  const previous = Number(kept[redriveAttributes.count]?.StringValue ?? 0);
  const marked: Record<string, MessageAttributeValue> = {
    ...kept,
    [redriveAttributes.count]: {
      DataType: 'Number',
      StringValue: String((Number.isSafeInteger(previous) ? previous : 0) + 1),
    },
    [redriveAttributes.sourceMessageId]: { DataType: 'String', StringValue: message.MessageId ?? '' },
  };
  const fits =
    Object.keys(marked).length <= MAX_MESSAGE_ATTRIBUTES &&
    entryBytes({ body, messageAttributes: marked }) <= sqsLimits.maxMessageBytes;
  const attributes = fits ? marked : kept;
  const trace = message.Attributes?.AWSTraceHeader;
  return {
    MessageBody: body,
    ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
    ...(trace
      ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: trace } } }
      : {}),
    ...(fifo
      ? {
          MessageGroupId: message.Attributes?.MessageGroupId ?? FALLBACK_GROUP,
          MessageDeduplicationId: redriveDeduplicationId(message.MessageId ?? ''),
        }
      : {}),
  };
}

/** Bytes SQS counts for an entry, for splitting batches under the request limit. */
export function redriveEntryBytes(entry: Omit<SendMessageBatchRequestEntry, 'Id'>): number {
  return entryBytes({
    body: entry.MessageBody ?? '',
    messageAttributes: entry.MessageAttributes as Record<string, MessageAttributeValue> | undefined,
  });
}

/** A received attribute as SendMessage takes it (the list fields SQS reserves are dropped). */
function attributeValue(value: MessageAttributeValue): MessageAttributeValue {
  return {
    DataType: value.DataType,
    ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
    ...(value.BinaryValue === undefined ? {} : { BinaryValue: value.BinaryValue }),
  };
}
