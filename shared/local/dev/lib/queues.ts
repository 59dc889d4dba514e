import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DemoSendError } from './errors.ts';

/** A dead-lettered message with the reason attributes the pipeline's functions add. */
export interface DeadLetter {
  readonly body: string;
  readonly errorCode: string;
  readonly errorMessage: string | undefined;
  readonly sourceMessageId: string | undefined;
}

/**
 * Collects the letters of a dead-letter queue the demo owns: each receive hides what it got for five
 * minutes (the queue's count still shows them locally), so every letter is seen once.
 */
export class DeadLetterCollector {
  private readonly seen = new Map<string, DeadLetter>();

  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
  ) {}

  /** Receives once; resolves with every letter collected so far. */
  async poll(): Promise<DeadLetter[]> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of Messages) {
      const letter = deadLetterOf(message);
      // A retried DLQ send may duplicate a letter: one source message counts once.
      this.seen.set(letter.sourceMessageId ?? message.MessageId ?? String(this.seen.size), letter);
    }
    return [...this.seen.values()];
  }
}

/** Messages in the queue, visible or in flight (local-aws-sqs counts both in ApproximateNumberOfMessages). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

/**
 * Sends raw bodies (objects as JSON) in batches of ten, as any SQS client could; resolves with their
 * message ids in order. FIFO queues get `groupId` and a deduplication id per message.
 */
export async function sendBodies(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly unknown[],
  options: { readonly groupId?: string } = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; start += 10) {
    const entries = bodies.slice(start, start + 10).map((body, i) => ({
      Id: String(i),
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      ...(options.groupId
        ? { MessageGroupId: options.groupId, MessageDeduplicationId: crypto.randomUUID() }
        : {}),
    }));
    const { Successful = [], Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    if (Failed.length > 0) throw new DemoSendError(queueUrl, Failed.length, Failed[0]?.Message);
    const byId = new Map(Successful.map((s) => [s.Id, s.MessageId ?? '']));
    ids.push(...entries.map((entry) => byId.get(entry.Id) ?? ''));
  }
  return ids;
}

function deadLetterOf(message: Message): DeadLetter {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  return {
    body: message.Body ?? '',
    errorCode: attribute('ErrorCode') ?? 'unknown',
    errorMessage: attribute('ErrorMessage'),
    sourceMessageId: attribute('SourceMessageId'),
  };
}
