import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { JOB_TRACES_ATTRIBUTE } from '../../shared/pipeline/inference/work-message.ts';
import { sqsLimits } from '../../shared/sqs/index.ts';
import {
  AWS_TRACE_HEADER_ATTRIBUTE,
  sdkMessageCarrier,
  TRACE_MESSAGE_ATTRIBUTES,
  type TraceCarrier,
} from '../../shared/tracing/index.ts';

/** A gpu-work message's trace context: the dispatcher's batch span, and each job's own. */
export interface ReceivedTrace extends TraceCarrier {
  /** The `job-traces` attribute, as received (`parseJobTraces` reads it). */
  readonly jobTraces?: string | undefined;
}

/** One received gpu-work message. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** ApproximateReceiveCount: 1 on the first delivery. */
  readonly receiveCount: number;
  /** Its trace context; read only when the source was built with `traceContext`. */
  readonly trace?: ReceivedTrace;
}

/** The worker's view of the gpu-work queue. */
export interface WorkSource {
  /** Long-polls for up to `max` messages; an aborted poll resolves with none. */
  receive(max: number, waitSeconds: number, signal: AbortSignal): Promise<ReceivedMessage[]>;
  /** Deletes messages; resolves with the ids SQS did not delete (they will be redelivered). */
  delete(messages: readonly ReceivedMessage[]): Promise<string[]>;
  /** Sets the messages' visibility timeout (0 hands them back at once); resolves with the ids that failed. */
  changeVisibility(messages: readonly ReceivedMessage[], seconds: number): Promise<string[]>;
}

/** DeleteMessageBatch and ChangeMessageVisibilityBatch take as many entries as SendMessageBatch. */
const MAX_BATCH_ENTRIES = sqsLimits.maxBatchEntries;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_BATCH_ENTRIES) out.push(items.slice(i, i + MAX_BATCH_ENTRIES));
  return out;
}

/** One `Entries` item of DeleteMessageBatch or ChangeMessageVisibilityBatch. */
interface BatchEntry {
  readonly Id: string;
  readonly ReceiptHandle: string;
}

export interface SqsWorkSourceOptions {
  /** Also receive the trace context attributes (tracing on). @default false */
  readonly traceContext?: boolean;
}

export class SqsWorkSource implements WorkSource {
  private readonly traceContext: boolean;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    options: SqsWorkSourceOptions = {},
  ) {
    this.traceContext = options.traceContext ?? false;
  }

  async receive(max: number, waitSeconds: number, signal: AbortSignal): Promise<ReceivedMessage[]> {
    if (signal.aborted) return [];
    try {
      const { Messages } = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: Math.min(sqsLimits.maxReceiveMessages, Math.max(1, max)),
          WaitTimeSeconds: waitSeconds,
          // Both spellings: local-aws-sqs only honours the older (deprecated) one.
          AttributeNames: ['All'],
          ...(this.traceContext
            ? {
                MessageSystemAttributeNames: ['ApproximateReceiveCount', AWS_TRACE_HEADER_ATTRIBUTE],
                MessageAttributeNames: [...TRACE_MESSAGE_ATTRIBUTES, JOB_TRACES_ATTRIBUTE],
              }
            : { MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
        }),
        { abortSignal: signal },
      );
      return (Messages ?? []).map((m) => ({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
        ...(this.traceContext
          ? {
              trace: {
                ...sdkMessageCarrier(m),
                jobTraces: m.MessageAttributes?.[JOB_TRACES_ATTRIBUTE]?.StringValue,
              },
            }
          : {}),
      }));
    } catch (error) {
      if (signal.aborted) return [];
      throw error;
    }
  }

  delete(messages: readonly ReceivedMessage[]): Promise<string[]> {
    return this.inBatches(messages, (Entries) =>
      this.client.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries })),
    );
  }

  changeVisibility(messages: readonly ReceivedMessage[], seconds: number): Promise<string[]> {
    return this.inBatches(messages, (entries) =>
      this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: entries.map((entry) => ({ ...entry, VisibilityTimeout: seconds })),
        }),
      ),
    );
  }

  /** Sends one batch request per ≤ 10 messages; resolves with the ids of the messages that failed. */
  private async inBatches(
    messages: readonly ReceivedMessage[],
    send: (entries: BatchEntry[]) => Promise<{ Failed?: readonly { Id?: string | undefined }[] | undefined }>,
  ): Promise<string[]> {
    const failed: string[] = [];
    await Promise.all(
      chunks(messages).map(async (chunk) => {
        try {
          const result = await send(chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })));
          for (const f of result.Failed ?? []) failed.push(chunk[Number(f.Id)]!.messageId);
        } catch {
          failed.push(...chunk.map((m) => m.messageId));
        }
      }),
    );
    return failed;
  }
}
