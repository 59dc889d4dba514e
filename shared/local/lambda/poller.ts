import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import {
  functionOption,
  integerOption,
  numberOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
  textOption,
} from '../../core/options.ts';
import { withTimeout } from '../../core/timeout.ts';
import { writePathSettings } from '../../pipeline/settings.ts';
import { isFifoQueueUrl, sqsLimits } from '../../sqs/index.ts';
import {
  DrainTimeoutError,
  HandlerTimeoutError,
  LocalResourceError,
  MalformedBatchResponseError,
  VisibilityTimeoutTooShortError,
} from '../errors.ts';
import { batchOutcome } from './batch-response.ts';
import { FifoGate } from './fifo-gate.ts';
import type { InFlightRecorder } from './in-flight-journal.ts';
import { createLambdaContext } from './lambda-context.ts';
import { type RecordSource, toSqsRecord } from './sqs-event.ts';

/** An SQS-triggered Lambda handler, as the poller invokes it. */
// biome-ignore lint/suspicious/noConfusingVoidType: like Lambda, the poller accepts handlers that return nothing.
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** Stamped on every record as `eventSourceARN`. @default looked up with GetQueueAttributes */
  readonly queueArn?: string;
  readonly handler: SqsHandler;
  /** Most records per invocation; FIFO queues are capped at 10. @default writePathSettings.eventSource.batchSize */
  readonly batchSize?: number;
  /** How long to gather records before invoking (standard queues only, as in Lambda). @default writePathSettings.eventSource.maxBatchingWindowSeconds × 1000 */
  readonly maxBatchingWindowMs?: number;
  /** Most invocations at once; FIFO queues run one at a time. @default writePathSettings.eventSource.maxConcurrency */
  readonly maxConcurrency?: number;
  /** The function timeout: past it the batch counts as failed. @default writePathSettings.function.timeoutSeconds × 1000 */
  readonly timeoutMs?: number;
  /**
   * Added to `timeoutMs` before the poller gives up on a handler that starts function instances
   * itself: Lambda's timeout does not count an instance's init (up to 10 s), so a cold invocation
   * may take this much longer. The handler still gets `timeoutMs` as its remaining time. @default 0
   */
  readonly initAllowanceMs?: number;
  /** @default 'batch-writer-local' */
  readonly functionName?: string;
  /** Long poll of an idle worker; `stop()` waits for it to return. @default 1 */
  readonly idleWaitSeconds?: number;
  /** Told about handler errors and failed receives or deletes. @default console.error */
  readonly onError?: (error: unknown) => void;
  /**
   * Told of every message received and of every message settled (deleted, or its batch finished),
   * so that a killed process's messages can be released at the next start (`InFlightJournal`).
   * @default none
   */
  readonly inFlight?: InFlightRecorder;
}

const { eventSource } = writePathSettings;

/**
 * `SqsPollerOptions` checked, with the defaults documented there applied. The ranges are Lambda's
 * (batch size, batching window, timeout) and SQS's (long-poll wait).
 */
export const SqsPollerOptionsSchema = z.object({
  sqs: objectOption<SQSClient>('an SQSClient'),
  queueUrl: textOption('a queue URL'),
  queueArn: z.string({ error: 'a queue ARN' }).optional(),
  handler: functionOption<SqsHandler>('a handler function'),
  batchSize: integerOption(1, 10_000).default(eventSource.batchSize),
  maxBatchingWindowMs: numberOption(0, 300_000).default(eventSource.maxBatchingWindowSeconds * 1000),
  maxConcurrency: integerOption(1, 1000).default(eventSource.maxConcurrency),
  timeoutMs: numberOption(1, 900_000).default(writePathSettings.function.timeoutSeconds * 1000),
  initAllowanceMs: numberOption(0, 60_000).default(0),
  functionName: textOption('a function name').default('batch-writer-local'),
  idleWaitSeconds: integerOption(0, 20).default(1),
  onError: functionOption<(error: unknown) => void>().default(
    () => (error: unknown) => console.error('[sqs-poller]', error),
  ),
  inFlight: objectOption<InFlightRecorder>('an InFlightJournal').optional(),
}) satisfies OptionsSchema<SqsPollerOptions>;

/** What the poller has done so far. */
export interface PollerStats {
  /** Handler invocations. */
  readonly invocations: number;
  /** Records handed to the handler. */
  readonly records: number;
  /** Records deleted after the handler succeeded with them. */
  readonly deleted: number;
  /** Records left for redelivery: reported in `batchItemFailures`, or in a batch that threw or timed out. */
  readonly failed: number;
  /** Invocations that threw, returned a malformed response, or timed out. */
  readonly failedInvocations: number;
  /** FIFO records held back, unprocessed, behind an earlier failure of their group. */
  readonly deferred: number;
}

/** Lambda's invoke payload limit: stop gathering once the bodies reach it (the last receive may overshoot). */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Lambda's FIFO batch-size limit. */
const FIFO_MAX_BATCH = 10;
const RECEIVE_MAX = sqsLimits.maxReceiveMessages;
/** At most this many ReceiveMessage calls at once while filling one batch. */
const PARALLEL_RECEIVES = 4;
/** Pause after an empty receive that did not long-poll. */
const EMPTY_ROUND_PAUSE_MS = 50;
/** Pause after a failed receive, so a dead endpoint is not hammered. */
const ERROR_PAUSE_MS = 500;
/** Margin on the FIFO block: a failed message is visible again a little after its visibility timeout. */
const FIFO_BLOCK_MARGIN_MS = 1_000;

/**
 * A local event-source mapping with Lambda's SQS semantics: workers gather batches, invoke the
 * handler with a Lambda-shaped event and context, delete what succeeded and leave the rest for
 * redelivery after the visibility timeout (and the DLQ after `maxReceiveCount`).
 *
 * @example
 * const poller = new SqsEventSourcePoller({ sqs, queueUrl, handler });
 * await poller.start();
 * await poller.drain();
 * await poller.stop();
 */
export class SqsEventSourcePoller {
  readonly queueUrl: string;
  readonly fifo: boolean;
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  readonly maxConcurrency: number;
  readonly timeoutMs: number;
  private readonly initAllowanceMs: number;
  private readonly sqs: SQSClient;
  private readonly handler: SqsHandler;
  private readonly functionName: string;
  private readonly idleWaitSeconds: number;
  private readonly onError: (error: unknown) => void;
  private readonly inFlight: InFlightRecorder | undefined;
  private readonly counts = {
    invocations: 0,
    records: 0,
    deleted: 0,
    failed: 0,
    failedInvocations: 0,
    deferred: 0,
  };
  private source: RecordSource | undefined;
  private gate: FifoGate | undefined;
  private running = false;
  private workers: Promise<void>[] = [];
  /** Workers holding received records that are not yet deleted or released. */
  private busy = 0;

  /** @throws InvalidOptionError when an option is out of range (the message names it and the rule). */
  constructor(options: SqsPollerOptions) {
    const resolved = parseOptions('SqsEventSourcePoller', SqsPollerOptionsSchema, options);
    this.sqs = resolved.sqs;
    this.queueUrl = resolved.queueUrl;
    this.handler = resolved.handler;
    this.fifo = isFifoQueueUrl(resolved.queueUrl);
    this.batchSize = this.fifo ? Math.min(resolved.batchSize, FIFO_MAX_BATCH) : resolved.batchSize;
    this.maxBatchingWindowMs = this.fifo ? 0 : resolved.maxBatchingWindowMs;
    // One invocation at a time is what keeps FIFO groups in order: local-aws-sqs hands out a group's
    // messages even while others of the group are in flight.
    this.maxConcurrency = this.fifo ? 1 : resolved.maxConcurrency;
    this.timeoutMs = resolved.timeoutMs;
    this.initAllowanceMs = resolved.initAllowanceMs;
    this.idleWaitSeconds = resolved.idleWaitSeconds;
    this.functionName = resolved.functionName;
    this.onError = resolved.onError;
    this.inFlight = resolved.inFlight;
    if (resolved.queueArn) this.source = { queueArn: resolved.queueArn, region: regionOf(resolved.queueArn) };
  }

  get stats(): PollerStats {
    return { ...this.counts };
  }

  /**
   * Looks up what it needs about the queue, then starts `maxConcurrency` workers.
   *
   * @throws VisibilityTimeoutTooShortError when the queue's visibility timeout is below `timeoutMs`, as Lambda refuses it.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['QueueArn', 'VisibilityTimeout'],
      }),
    );
    const visibilityTimeoutSeconds = Number(Attributes.VisibilityTimeout ?? 30);
    if (visibilityTimeoutSeconds * 1000 < this.timeoutMs)
      throw new VisibilityTimeoutTooShortError(this.queueUrl, visibilityTimeoutSeconds, this.timeoutMs);
    const queueArn = this.source?.queueArn ?? Attributes.QueueArn ?? '';
    this.source = { queueArn, region: regionOf(queueArn) };
    if (this.fifo) this.gate = new FifoGate(visibilityTimeoutSeconds * 1000 + FIFO_BLOCK_MARGIN_MS);
    this.running = true;
    this.workers = Array.from({ length: this.maxConcurrency }, () => this.work());
  }

  /** Stops receiving, lets running invocations finish (and their deletes), then resolves. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Resolves once the queue is empty (nothing visible, in flight or delayed) and no invocation runs.
   * Failed messages count until they are redelivered and succeed, or move to the DLQ.
   *
   * @throws DrainTimeoutError when that has not happened within `timeoutMs`.
   */
  async drain(options: { readonly timeoutMs?: number; readonly pollMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = await this.queueDepth();
      if (remaining === 0 && this.busy === 0) return;
      if (Date.now() >= deadline) throw new DrainTimeoutError(this.queueUrl, timeoutMs, remaining);
      await sleep(options.pollMs ?? 100);
    }
  }

  /** Visible + in-flight + delayed messages. (local-aws-sqs already counts in-flight ones as visible.) */
  private async queueDepth(): Promise<number> {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  private async work(): Promise<void> {
    while (this.running) {
      const receivedAt = Date.now();
      const first = await this.receive(Math.min(this.batchSize, RECEIVE_MAX), this.idleWaitSeconds);
      if (first.length === 0) {
        // Without a long poll an idle worker would spin on empty receives.
        if (this.idleWaitSeconds === 0) await sleep(EMPTY_ROUND_PAUSE_MS);
        continue;
      }
      this.busy++;
      try {
        const messages = this.fifo ? this.admit(first) : await this.gather(first);
        if (messages.length > 0) await this.invoke(messages, receivedAt);
      } finally {
        // `first` now holds the whole batch (gather appends to it), the deferred FIFO records too.
        this.journal((recorder) => recorder.settled(first.map((message) => message.MessageId ?? '')));
        this.busy--;
      }
    }
  }

  /** Fills a batch until it is full, the payload limit is reached, or the batching window closes. */
  private async gather(messages: Message[]): Promise<Message[]> {
    const windowEnd = Date.now() + this.maxBatchingWindowMs;
    let bytes = payloadBytes(messages);
    while (
      this.running &&
      messages.length < this.batchSize &&
      bytes < MAX_PAYLOAD_BYTES &&
      Date.now() < windowEnd
    ) {
      const missing = this.batchSize - messages.length;
      const calls = Math.min(Math.ceil(missing / RECEIVE_MAX), PARALLEL_RECEIVES);
      const rounds = await Promise.all(
        Array.from({ length: calls }, (_, i) =>
          this.receive(Math.min(RECEIVE_MAX, missing - i * RECEIVE_MAX), 0),
        ),
      );
      const received = rounds.flat();
      if (received.length === 0)
        await sleep(Math.max(0, Math.min(EMPTY_ROUND_PAUSE_MS, windowEnd - Date.now())));
      messages.push(...received);
      bytes += payloadBytes(received);
    }
    return messages;
  }

  private admit(messages: Message[]): Message[] {
    const { admitted, deferred } = this.gate!.admit(messages);
    this.counts.deferred += deferred.length;
    return admitted;
  }

  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    try {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          // local-aws-sqs returns system attributes only for the older AttributeNames; AWS reads either.
          AttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length > 0)
        this.journal((recorder) =>
          recorder.received(
            Messages.map((message) => ({
              queueUrl: this.queueUrl,
              receiptHandle: message.ReceiptHandle ?? '',
              messageId: message.MessageId ?? '',
            })),
          ),
        );
      return Messages;
    } catch (error) {
      if (this.running) this.onError(error);
      await sleep(ERROR_PAUSE_MS);
      return [];
    }
  }

  /** A journal that cannot be written costs the fast release after a crash, not the messages. */
  private journal(write: (recorder: InFlightRecorder) => void): void {
    if (this.inFlight === undefined) return;
    try {
      write(this.inFlight);
    } catch (error) {
      this.onError(error);
    }
  }

  private async invoke(messages: Message[], receivedAt: number): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, this.source!));
    const context = createLambdaContext({
      functionName: this.functionName,
      timeoutMs: this.timeoutMs,
      region: this.source!.region,
    });
    this.counts.invocations++;
    this.counts.records += records.length;
    let failed: ReadonlySet<string>;
    try {
      const limit = this.timeoutMs + this.initAllowanceMs;
      const response = await withTimeout(this.handler({ Records: records }, context), limit, () => {
        throw new HandlerTimeoutError(limit);
      });
      const outcome = batchOutcome(response, records);
      if (outcome.problem) throw new MalformedBatchResponseError(outcome.problem);
      failed = outcome.failed;
    } catch (error) {
      this.counts.failedInvocations++;
      this.onError(error);
      failed = new Set(records.map((record) => record.messageId));
    }
    this.counts.failed += failed.size;
    if (this.gate && failed.size > 0) {
      this.gate.fail(
        messages.filter((message) => failed.has(message.MessageId ?? '')),
        receivedAt,
      );
    }
    await this.delete(messages.filter((message) => !failed.has(message.MessageId ?? '')));
  }

  private async delete(messages: readonly Message[]): Promise<void> {
    const chunks: Message[][] = [];
    const size = sqsLimits.maxBatchEntries;
    for (let i = 0; i < messages.length; i += size) chunks.push(messages.slice(i, i + size));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          const { Successful = [], Failed = [] } = await this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: chunk.map((message) => ({
                Id: message.MessageId,
                ReceiptHandle: message.ReceiptHandle,
              })),
            }),
          );
          this.counts.deleted += Successful.length;
          // An undeleted message comes back after the visibility timeout: at-least-once, as in Lambda.
          for (const failure of Failed)
            this.onError(new LocalResourceError(`message ${failure.Id}`, `was not deleted: ${failure.Code}`));
        } catch (error) {
          this.onError(error);
        }
      }),
    );
  }
}

function payloadBytes(messages: readonly Message[]): number {
  return messages.reduce((sum, message) => sum + Buffer.byteLength(message.Body ?? ''), 0);
}

/** `arn:aws:sqs:<region>:<account>:<name>` → region. */
function regionOf(queueArn: string): string {
  return queueArn.split(':')[3] || 'us-east-1';
}
