/**
 * The suite's side of the pipeline's queues: sending messages as a producer would, reading
 * dead letters without disturbing anyone else's, and telling when a queue has been worked off.
 */

import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { done, eventually, notYet } from './poll.ts';

/** One client for the suite: endpoints, region and credentials from the environment. */
export const sqs = new SQSClient({});

const isFifo = (queueUrl: string) => queueUrl.endsWith('.fifo');

export interface SendOptions {
  /** FIFO queues: the message group of every message. @default one new group per call */
  readonly groupId?: string;
}

/**
 * Sends each body (an object is sent as its JSON, a string as it is) in order, ten a request, and
 * resolves with their message ids once SQS accepted all of them. FIFO queues get one group and a
 * unique deduplication id per message.
 */
export async function sendBodies(
  queueUrl: string,
  bodies: readonly unknown[],
  options: SendOptions = {},
): Promise<string[]> {
  const groupId = options.groupId ?? randomUUID();
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; start += 10) {
    const entries = bodies.slice(start, start + 10).map((body, i) => ({
      Id: String(i),
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      ...(isFifo(queueUrl) ? { MessageGroupId: groupId, MessageDeduplicationId: randomUUID() } : {}),
    }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (out.Failed?.length) {
      throw new Error(
        `SQS refused ${out.Failed.length} message(s) for ${queueUrl}: ${JSON.stringify(out.Failed)}`,
      );
    }
    const byId = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId ?? '']));
    ids.push(...entries.map((entry) => byId.get(entry.Id) ?? ''));
  }
  return ids;
}

/** A dead-lettered message: its original body and the reason attributes the pipeline adds. */
export interface DeadLetter {
  readonly body: string;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;
  readonly sourceMessageId: string | undefined;
}

/**
 * Reads a dead-letter queue shared with other tests and other runs: letters whose body contains a
 * marker are kept (and deleted from the queue), every other letter is handed straight back
 * (visibility 0) for its owner. Duplicates of one source message (a retried DLQ send) count once.
 */
export class DeadLetterReader {
  private readonly kept = new Map<string, DeadLetter>();

  constructor(
    readonly queueUrl: string,
    /** Only letters whose body contains this are the reader's. */
    private readonly marker: string,
  ) {}

  /** The reader's letters so far. */
  get letters(): DeadLetter[] {
    return [...this.kept.values()];
  }

  /** Receives until `until(letters)` holds; throws `ConditionTimeoutError` with the letters after the deadline. */
  async waitFor(
    until: (letters: readonly DeadLetter[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<DeadLetter[]> {
    return eventually(
      async () => {
        await this.receive();
        const letters = this.letters;
        return until(letters) ? done(letters) : notYet(letters);
      },
      {
        what: `${what} in ${this.queueUrl}`,
        intervalMs: 0,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      },
    );
  }

  /** One receive; resolves with the reader's letters so far. */
  async poll(): Promise<DeadLetter[]> {
    await this.receive();
    return this.letters;
  }

  /**
   * Receives until two receives in a row bring none of the reader's letters: after the source queue
   * is idle, whatever else was dead-lettered is then in `letters` too.
   */
  async sweep(): Promise<DeadLetter[]> {
    for (let none = 0; none < 2; ) none = (await this.receive()) === 0 ? none + 1 : 0;
    return this.letters;
  }

  /** One receive: keeps and deletes ours, hands back the rest; resolves with how many were ours. */
  private async receive(): Promise<number> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 10,
        // Until this reader deletes or hands them back; should the test die first, they return in a minute.
        VisibilityTimeout: 60,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    const ours = Messages.filter((m) => m.Body?.includes(this.marker));
    const theirs = Messages.filter((m) => !m.Body?.includes(this.marker));
    for (const message of ours) {
      const letter = deadLetterOf(message);
      this.kept.set(letter.sourceMessageId ?? message.MessageId ?? randomUUID(), letter);
    }
    await Promise.all([
      ours.length === 0
        ? undefined
        : sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entriesOf(ours) })),
      theirs.length === 0
        ? undefined
        : sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: entriesOf(theirs).map((entry) => ({ ...entry, VisibilityTimeout: 0 })),
            }),
          ),
    ]);
    return ours.length;
  }
}

/**
 * Resolves once the queue holds no message — none visible, none in flight, none delayed — in three
 * readings in a row: everything sent before has been received and deleted, i.e. processed. Three
 * readings, because AWS's counts are approximate.
 */
export async function waitForQueueIdle(queueUrl: string, timeoutMs?: number): Promise<void> {
  let zeros = 0;
  await eventually(
    async () => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const total = Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
      zeros = total === 0 ? zeros + 1 : 0;
      return zeros >= 3 ? done(undefined) : notYet(Attributes);
    },
    {
      what: `an idle queue ${queueUrl}`,
      intervalMs: 1_000,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    },
  );
}

function deadLetterOf(message: Message): DeadLetter {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  return {
    body: message.Body ?? '',
    errorCode: attribute('ErrorCode'),
    errorMessage: attribute('ErrorMessage'),
    sourceMessageId: attribute('SourceMessageId'),
  };
}

function entriesOf(messages: readonly Message[]) {
  return messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));
}
