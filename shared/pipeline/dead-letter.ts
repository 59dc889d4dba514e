import type { SQSClient } from '@aws-sdk/client-sqs';
import { isFifoQueueUrl, replaceDisallowedCharacters, type SendEntry, SqsBatchSender } from '../sqs/index.ts';

/** A message the pipeline will never be able to process, with the reason it gives up on it. */
export interface DeadLetter {
  /** Original SQS message id (also the FIFO deduplication id). */
  readonly messageId: string;
  readonly body: string;
  /** Stable error code, e.g. INVALID_JSON. */
  readonly errorCode: string;
  readonly errorMessage: string;
  /** FIFO message group of the original message. */
  readonly messageGroupId?: string;
}

/** Where permanent rejects go. `send` resolves with which entries were accepted, index-aligned. */
export interface DeadLetterSink {
  send(letters: readonly DeadLetter[]): Promise<boolean[]>;
}

const MAX_ERROR_MESSAGE_CHARS = 1024;

/**
 * Sends dead letters to an SQS queue with message attributes `ErrorCode`, `ErrorMessage` and
 * `SourceMessageId`, through the producer's batch sender (≤ 10 entries and ≤ 1 MiB per request,
 * retries with backoff). An entry that cannot be sent is reported `false`, so the caller keeps the
 * original message for redelivery instead of losing it.
 */
export class SqsDeadLetterSink implements DeadLetterSink {
  private readonly sender: SqsBatchSender;
  private readonly fifo: boolean;

  constructor(client: SQSClient, queueUrl: string) {
    this.fifo = isFifoQueueUrl(queueUrl);
    // Few, short retries: dead letters are sent inside the Lambda's deadline margin.
    this.sender = new SqsBatchSender({
      client,
      queueUrl,
      maxDelayMs: 1,
      maxAttempts: 3,
      retryMaxDelayMs: 200,
    });
  }

  async send(letters: readonly DeadLetter[]): Promise<boolean[]> {
    const settled = await Promise.allSettled(letters.map((letter) => this.sender.send(this.entryOf(letter))));
    return settled.map((result) => result.status === 'fulfilled');
  }

  private entryOf(letter: DeadLetter): SendEntry {
    return {
      body: letter.body,
      messageAttributes: {
        ErrorCode: { DataType: 'String', StringValue: letter.errorCode },
        ErrorMessage: {
          DataType: 'String',
          StringValue: replaceDisallowedCharacters(letter.errorMessage.slice(0, MAX_ERROR_MESSAGE_CHARS)),
        },
        SourceMessageId: { DataType: 'String', StringValue: letter.messageId },
      },
      ...(this.fifo
        ? {
            messageGroupId: letter.messageGroupId ?? 'dead-letters',
            messageDeduplicationId: letter.messageId,
          }
        : {}),
    };
  }
}
