import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import {
  InvalidGroupIdError,
  InvalidMessageBodyError,
  MessageTooLargeError,
  MissingGroupIdError,
  TooManyMessageAttributesError,
} from './errors.ts';

/** SQS service limits (2025: messages and batch requests up to 1 MiB). */
export const sqsLimits = {
  /** Entries in one SendMessageBatch, DeleteMessageBatch or ChangeMessageVisibilityBatch. */
  maxBatchEntries: 10,
  /** Messages one ReceiveMessage returns at most (MaxNumberOfMessages). */
  maxReceiveMessages: 10,
  /** Bytes of one message: body + attribute names, types and values. */
  maxMessageBytes: 1_048_576,
  /** Bytes of one SendMessageBatch: the sum of its messages. */
  maxRequestBytes: 1_048_576,
  /** Characters of a MessageGroupId (FIFO group, or fair-queue tenant on a standard queue). */
  maxGroupIdLength: 128,
  /** Message attributes of one message (system attributes such as AWSTraceHeader not counted). */
  maxMessageAttributes: 10,
} as const;

/** One message as the low-level sender takes it. */
export interface SendEntry {
  /** The message body; 1 byte to 1 MiB of characters SQS allows. */
  readonly body: string;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  /**
   * FIFO queues: the ordering group, required. Standard queues: the fair-queue tenant, optional
   * (no ordering). 1 to 128 letters, digits and ASCII punctuation either way.
   */
  readonly messageGroupId?: string;
  /** FIFO queues without content-based deduplication need one. */
  readonly messageDeduplicationId?: string;
  /** Standard queues only. */
  readonly delaySeconds?: number;
  /**
   * The `AWSTraceHeader` system attribute (X-Ray's format). It counts toward neither the 10 message
   * attributes nor the message size. The sender sets it from the active trace context when the
   * message has no room for `traceparent` (see `SqsBatchSenderOptions.traceContext`).
   */
  readonly awsTraceHeader?: string;
}

// XML 1.0 characters, the set SQS accepts: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
// With the `u` flag a lone surrogate is its own code point (D800-DFFF) and so matches this class.
const DISALLOWED = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const DISALLOWED_ALL = new RegExp(DISALLOWED.source, 'gu');

/** Bytes SQS counts for a message: UTF-8 body plus each attribute's name, data type and value. */
export function entryBytes(entry: SendEntry): number {
  let bytes = Buffer.byteLength(entry.body, 'utf8');
  for (const [name, value] of Object.entries(entry.messageAttributes ?? {})) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

/** Index and code point of the first character SQS does not allow, or undefined. */
export function findDisallowedCharacter(text: string): { index: number; codePoint: number } | undefined {
  const match = DISALLOWED.exec(text);
  if (!match) return undefined;
  return { index: match.index, codePoint: match[0].codePointAt(0)! };
}

/**
 * Replaces every character SQS refuses with U+FFFD, e.g. for an error message that quotes a bad
 * body and goes into a message attribute.
 */
export function replaceDisallowedCharacters(text: string, replacement = '\uFFFD'): string {
  return text.replace(DISALLOWED_ALL, replacement);
}

/**
 * Checks what SQS would refuse for the whole message, so that the caller gets a typed error before
 * anything is sent. Returns the message's size in bytes.
 */
export function checkEntry(
  entry: SendEntry,
  queue: { url: string; fifo: boolean },
  maxBytes: number,
): number {
  if (entry.body.length === 0) throw new InvalidMessageBodyError('body', 'must not be empty');
  checkCharacters('body', entry.body);
  const attributes = Object.entries(entry.messageAttributes ?? {});
  if (attributes.length > sqsLimits.maxMessageAttributes) {
    throw new TooManyMessageAttributesError(
      attributes.map(([name]) => name),
      sqsLimits.maxMessageAttributes,
    );
  }
  for (const [name, value] of attributes) {
    if (value.StringValue !== undefined) checkCharacters(`messageAttributes.${name}`, value.StringValue);
  }
  if (entry.awsTraceHeader !== undefined) checkCharacters('awsTraceHeader', entry.awsTraceHeader);
  if (queue.fifo && !entry.messageGroupId) throw new MissingGroupIdError(queue.url);
  if (entry.messageGroupId !== undefined) {
    const problem = groupIdProblem(entry.messageGroupId);
    if (problem) throw new InvalidGroupIdError(entry.messageGroupId, problem);
  }
  const bytes = entryBytes(entry);
  if (bytes > maxBytes) throw new MessageTooLargeError(bytes, maxBytes);
  return bytes;
}

function checkCharacters(where: string, text: string): void {
  const bad = findDisallowedCharacter(text);
  if (!bad) return;
  const hex = bad.codePoint.toString(16).toUpperCase().padStart(4, '0');
  throw new InvalidMessageBodyError(where, `character U+${hex} at index ${bad.index} is not allowed by SQS`);
}

// A MessageGroupId may hold letters, digits and ASCII punctuation: together, U+0021..U+007E (printable
// ASCII without the space).
const GROUP_ID_DISALLOWED = /[^\u0021-\u007E]/u;

/**
 * Why SQS would refuse `value` as a MessageGroupId (a FIFO group or a fair-queue tenant), in words;
 * undefined when it is acceptable: 1 to 128 characters, each `A-Z a-z 0-9` or ASCII punctuation.
 */
export function groupIdProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > sqsLimits.maxGroupIdLength) {
    return `is ${value.length} characters long; SQS allows 1 to ${sqsLimits.maxGroupIdLength}`;
  }
  const bad = GROUP_ID_DISALLOWED.exec(value);
  if (!bad) return undefined;
  const hex = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `character U+${hex} at index ${bad.index} is not allowed (only letters, digits and ASCII punctuation)`;
}

/** FIFO queue URLs end in `.fifo`. */
export function isFifoQueueUrl(queueUrl: string): boolean {
  return queueUrl.endsWith('.fifo');
}
