import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

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
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Sends dead letters to an SQS queue with message attributes `ErrorCode`, `ErrorMessage` and
 * `SourceMessageId`. An entry that cannot be sent is reported `false`, so the caller keeps the
 * original message for redelivery instead of losing it.
 */
export class SqsDeadLetterSink implements DeadLetterSink {
  private readonly fifo: boolean;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {
    this.fifo = queueUrl.endsWith('.fifo');
  }

  async send(letters: readonly DeadLetter[]): Promise<boolean[]> {
    const accepted = new Array<boolean>(letters.length).fill(false);
    await Promise.all(
      requestsOf(letters).map(async (indexes) => {
        try {
          const output = await this.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: indexes.map((i) => this.entryOf(letters[i]!, i)),
            }),
          );
          for (const ok of output.Successful ?? []) accepted[Number(ok.Id)] = true;
        } catch {
          // The whole request failed: every entry stays `false` and its message is retried.
        }
      }),
    );
    return accepted;
  }

  private entryOf(letter: DeadLetter, index: number) {
    return {
      Id: String(index),
      MessageBody: letter.body,
      MessageAttributes: {
        ErrorCode: { DataType: 'String', StringValue: letter.errorCode },
        ErrorMessage: {
          DataType: 'String',
          StringValue: letter.errorMessage.slice(0, MAX_ERROR_MESSAGE_CHARS),
        },
        SourceMessageId: { DataType: 'String', StringValue: letter.messageId },
      },
      ...(this.fifo
        ? {
            MessageGroupId: letter.messageGroupId ?? 'dead-letters',
            MessageDeduplicationId: letter.messageId,
          }
        : {}),
    };
  }
}

/** Groups entries into SendMessageBatch requests of ≤ 10 entries and ≤ 1 MiB. */
function requestsOf(letters: readonly DeadLetter[]): number[][] {
  const requests: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  letters.forEach((letter, i) => {
    const size = Buffer.byteLength(letter.body) + MAX_ERROR_MESSAGE_CHARS * 3 + 200;
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + size > MAX_REQUEST_BYTES)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) requests.push(current);
  return requests;
}
