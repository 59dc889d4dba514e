/**
 * Receiving every message of a queue once: batches of up to ten, hidden for the visibility timeout
 * while the scan goes on, until SQS has nothing new to hand out (confirmed by a short long poll).
 */

import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsLimits } from '../../sqs/index.ts';
import { request } from './sqs.ts';

export interface ReceiverOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Seconds each received message stays hidden. */
  readonly visibilityTimeoutS: number;
}

/**
 * Receives batches and reports which messages are new to this scan (a message whose visibility
 * timeout ended during the scan comes back, with a new receipt handle: not new).
 */
export class Receiver {
  private readonly seen = new Map<string, string>();
  private quiet = 0;

  constructor(private readonly options: ReceiverOptions) {}

  /** Receipt handles of every message received so far, the latest one of each. */
  get receiptHandles(): string[] {
    return [...this.seen.values()];
  }

  /**
   * Up to `max` messages new to this scan; `undefined` once the queue has nothing new twice in a
   * row, the second time after waiting a second (a long poll asks every SQS server, a short one only
   * some).
   */
  async next(max: number = sqsLimits.maxReceiveMessages): Promise<Message[] | undefined> {
    for (;;) {
      const { client, queueUrl, visibilityTimeoutS } = this.options;
      const { Messages = [] } = await request('ReceiveMessage', queueUrl, () =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(Math.max(1, max), sqsLimits.maxReceiveMessages),
            VisibilityTimeout: visibilityTimeoutS,
            WaitTimeSeconds: this.quiet === 0 ? 0 : 1,
            // local-aws-sqs returns system attributes (MessageGroupId…) only when asked this way.
            AttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        ),
      );
      const fresh = Messages.filter((m) => m.MessageId !== undefined && !this.seen.has(m.MessageId));
      for (const m of Messages)
        if (m.MessageId && m.ReceiptHandle) this.seen.set(m.MessageId, m.ReceiptHandle);
      if (fresh.length > 0) {
        this.quiet = 0;
        return fresh;
      }
      if (++this.quiet >= 2) return undefined;
    }
  }

  /** Forgets a message (deleted): it is not released at the end. */
  forget(messageId: string): void {
    this.seen.delete(messageId);
  }
}
