/**
 * What a dead-lettered message says about itself: the reason attributes the pipeline's dead-letter
 * sink adds (`ErrorCode`, `ErrorMessage`, `SourceMessageId`), or none when SQS moved it after
 * `maxReceiveCount` receives.
 */

import type { Message } from '@aws-sdk/client-sqs';

/** The code of a message SQS moved itself (after `maxReceiveCount` receives): it has no `ErrorCode`. */
export const NO_ERROR_CODE = 'none';

/** How reports name `NO_ERROR_CODE`. */
export const NO_ERROR_CODE_LABEL = '(none: maxReceiveCount)';

/** The message attributes the dead-letter sink adds; the mover does not carry the reasons over. */
export const deadLetterAttributes = {
  errorCode: 'ErrorCode',
  errorMessage: 'ErrorMessage',
  sourceMessageId: 'SourceMessageId',
} as const;

/** A received dead letter, without its body. */
export interface LetterInfo {
  readonly messageId: string;
  /** `ErrorCode`, or `NO_ERROR_CODE` when the message has none. */
  readonly code: string;
  readonly errorMessage?: string;
  readonly sourceMessageId?: string;
  readonly bodyBytes: number;
  /** When it was first sent to the DLQ (ISO 8601), when SQS says. */
  readonly sentAt?: string;
  readonly receiveCount?: number;
  readonly messageGroupId?: string;
}

/** The facts of a received message (received with `AttributeNames: ['All']`, `MessageAttributeNames: ['All']`). */
export function letterOf(message: Message): LetterInfo {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const sent = Number(message.Attributes?.SentTimestamp);
  const receives = Number(message.Attributes?.ApproximateReceiveCount);
  const errorMessage = attribute(deadLetterAttributes.errorMessage);
  const sourceMessageId = attribute(deadLetterAttributes.sourceMessageId);
  const groupId = message.Attributes?.MessageGroupId;
  return {
    messageId: message.MessageId ?? '',
    code: attribute(deadLetterAttributes.errorCode) ?? NO_ERROR_CODE,
    ...(errorMessage === undefined ? {} : { errorMessage }),
    ...(sourceMessageId === undefined ? {} : { sourceMessageId }),
    bodyBytes: Buffer.byteLength(message.Body ?? '', 'utf8'),
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(Number.isFinite(receives) ? { receiveCount: receives } : {}),
    ...(groupId ? { messageGroupId: groupId } : {}),
  };
}

/** A code as reports print it. */
export function codeLabel(code: string): string {
  return code === NO_ERROR_CODE ? NO_ERROR_CODE_LABEL : code;
}
