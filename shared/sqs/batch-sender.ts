import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SendMessageBatchResultEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type Context, context } from '@opentelemetry/api';
import { backOff } from 'exponential-backoff';
import { z } from 'zod';
import {
  integerOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
  textOption,
} from '../core/options.ts';
import { type BatchCandidate, type BatchLimits, selectBatch } from './batching.ts';
import { RetriesExhaustedError, SenderClosedError, SqsRejectedError } from './errors.ts';
import { checkEntry, isFifoQueueUrl, type SendEntry, sqsLimits } from './limits.ts';
import { classifyRequestError, isRetryableEntryFailure } from './retry.ts';
import { type SenderStats, StatsRecorder } from './stats.ts';
import { withTraceContext } from './trace-context.ts';

export interface SqsBatchSenderOptions {
  /** The queue every message goes to. */
  readonly queueUrl: string;
  /**
   * Client to send with. The default one is built with `maxAttempts: 1`, so that every retry is the
   * sender's own and counted; pass your own with `maxAttempts: 1` for the same reason.
   * @default new SQSClient({ maxAttempts: 1 }) (destroyed by `close()`)
   */
  readonly client?: SQSClient;
  /** Most SendMessageBatch requests in flight at once. @default 8 */
  readonly maxInFlight?: number;
  /** Most messages buffered while waiting for a request; `enqueue()`/`send()` wait for room beyond it. @default 1000 */
  readonly maxBuffered?: number;
  /**
   * Longest a message waits for its batch to fill before a partial batch is sent. `0` sends only
   * full batches, and partial ones on `flush()`/`close()`. @default 10
   */
  readonly maxDelayMs?: number;
  /** Attempts per message, the first included, for retryable failures. @default 8 */
  readonly maxAttempts?: number;
  /** Retry n (1, 2, …) waits a random [0, min(retryMaxDelayMs, retryBaseDelayMs × 2^(n-1))] ms (full jitter). @default 50 */
  readonly retryBaseDelayMs?: number;
  /** Cap of one backoff delay. @default 5000 */
  readonly retryMaxDelayMs?: number;
  /** Entries per request (1..10). @default 10 */
  readonly maxBatchEntries?: number;
  /** Largest message (body + attributes) accepted; lower it to match a queue's MaximumMessageSize. @default 1_048_576 */
  readonly maxMessageBytes?: number;
  /**
   * OpenTelemetry trace context for each message, for the consumer to link to or continue: `true`
   * puts the context active when the message is enqueued (`context.active()`) on it, a `Context`
   * puts that one on every message, `false` none. Nothing is added when the context holds no span:
   * a producer without tracing sends exactly what it is given. See `withTraceContext` for where it
   * goes (`traceparent`/`tracestate` attributes, else `AWSTraceHeader`). @default true
   */
  readonly traceContext?: boolean | Context;
}

/** `SqsBatchSenderOptions` checked, with the defaults documented there applied (all but `client`). */
export const SqsBatchSenderOptionsSchema = z.object({
  queueUrl: textOption('a queue URL'),
  client: objectOption<SQSClient>('an SQSClient').optional(),
  maxInFlight: integerOption(1).default(8),
  maxBuffered: integerOption(1).default(1000),
  maxDelayMs: integerOption(0).default(10),
  maxAttempts: integerOption(1).default(8),
  retryBaseDelayMs: integerOption(0).default(50),
  retryMaxDelayMs: integerOption(0).default(5000),
  maxBatchEntries: integerOption(1, sqsLimits.maxBatchEntries).default(sqsLimits.maxBatchEntries),
  maxMessageBytes: integerOption(1, sqsLimits.maxMessageBytes).default(sqsLimits.maxMessageBytes),
  traceContext: z
    .union([z.boolean(), objectOption<Context>('an OpenTelemetry Context')], {
      error: 'true, false or an OpenTelemetry Context',
    })
    .default(true),
}) satisfies OptionsSchema<SqsBatchSenderOptions>;

/** What SQS returned for an accepted message. */
export interface SendReceipt {
  readonly messageId: string;
  /** FIFO queues only. */
  readonly sequenceNumber?: string;
  /** Requests that carried the message (1 when no retry was needed). */
  readonly attempts: number;
}

/** A message admitted to the buffer; `receipt` settles when SQS accepts it or it cannot be sent. */
export interface PendingSend {
  readonly receipt: Promise<SendReceipt>;
}

interface Pending extends BatchCandidate {
  readonly entry: SendEntry;
  readonly seq: number;
  readonly receipt: Promise<SendReceipt>;
  readonly resolve: (receipt: SendReceipt) => void;
  readonly reject: (error: unknown) => void;
  enqueuedAt: number;
  attempts: number;
  lastFailure: string;
}

/** Thrown inside the retry loop when some entries of a request came back retryable. */
class EntriesNotAccepted extends Error {}

/**
 * Sends raw SQS messages through SendMessageBatch: ≤ 10 entries and ≤ 1 MiB per request, a bounded
 * number of requests in flight, a bounded buffer (backpressure), retries with exponential backoff
 * and full jitter. Every message settles: accepted (with its MessageId) or rejected with a typed
 * error (`errors.ts`) saying why. Nothing is dropped silently.
 *
 * @example
 * const sender = new SqsBatchSender({ queueUrl });
 * const { messageId } = await sender.send({ body: '{"op":"put",...}' });
 * // streaming with backpressure: wait for room, keep the receipt
 * const { receipt } = await sender.enqueue({ body });
 * await sender.close();
 */
export class SqsBatchSender implements AsyncDisposable {
  readonly queueUrl: string;
  /** Whether the queue is FIFO (its URL ends in `.fifo`): every message then needs a group id. */
  readonly fifo: boolean;
  private readonly client: SQSClient;
  private readonly ownsClient: boolean;
  private readonly maxInFlight: number;
  private readonly maxBuffered: number;
  private readonly maxDelayMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly maxMessageBytes: number;
  private readonly traceContext: boolean | Context;
  private readonly limits: BatchLimits;

  private readonly queue: Pending[] = [];
  /** Bytes of the buffered messages. */
  private queuedBytes = 0;
  private readonly waiting: { pending: Pending; admit: () => void }[] = [];
  private readonly unsettled = new Set<Pending>();
  private readonly groupsInFlight = new Set<string>();
  private readonly recorder = new StatsRecorder();
  private requestsInFlight = 0;
  private seq = 0;
  private forcedUpTo = 0;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  /** @throws InvalidOptionError when an option is out of range (the message names it and the rule). */
  constructor(options: SqsBatchSenderOptions) {
    const resolved = parseOptions('SqsBatchSender', SqsBatchSenderOptionsSchema, options);
    this.queueUrl = resolved.queueUrl;
    this.fifo = isFifoQueueUrl(resolved.queueUrl);
    this.ownsClient = resolved.client === undefined;
    this.client = resolved.client ?? new SQSClient({ maxAttempts: 1 });
    this.maxInFlight = resolved.maxInFlight;
    this.maxBuffered = resolved.maxBuffered;
    this.maxDelayMs = resolved.maxDelayMs;
    this.traceContext = resolved.traceContext;
    this.maxAttempts = resolved.maxAttempts;
    this.retryBaseDelayMs = resolved.retryBaseDelayMs;
    this.retryMaxDelayMs = resolved.retryMaxDelayMs;
    this.maxMessageBytes = resolved.maxMessageBytes;
    this.limits = { maxEntries: resolved.maxBatchEntries, maxBytes: sqsLimits.maxRequestBytes };
  }

  /** Messages buffered, waiting for a request. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Callers waiting for room in the buffer. */
  get waitingForRoom(): number {
    return this.waiting.length;
  }

  /** SendMessageBatch requests in flight (retry backoff included). */
  get inFlight(): number {
    return this.requestsInFlight;
  }

  get stats(): SenderStats {
    return this.recorder.snapshot();
  }

  /**
   * Sends one message; resolves with its receipt once SQS accepted it. Rejects with a typed error:
   * at once for what SQS would refuse (too large, bad characters, FIFO without a group id, a group
   * id SQS would refuse, closed),
   * or when SQS refused it or every attempt failed.
   */
  async send(entry: SendEntry): Promise<SendReceipt> {
    const { receipt } = await this.enqueue(entry);
    return receipt;
  }

  /**
   * Admits one message to the buffer, waiting while the buffer is full (backpressure), and returns
   * its receipt promise without waiting for SQS. Handle every receipt: it rejects when the message
   * cannot be sent. Rejects at once, and buffers nothing, when the message is refused locally.
   */
  async enqueue(given: SendEntry): Promise<PendingSend> {
    let bytes: number;
    let entry = given;
    try {
      if (this.closing) throw new SenderClosedError();
      // The caller's context, captured now: the request goes out later, from a timer.
      if (this.traceContext !== false) {
        const ctx = this.traceContext === true ? context.active() : this.traceContext;
        entry = withTraceContext(given, ctx, this.maxMessageBytes);
      }
      bytes = checkEntry(entry, { url: this.queueUrl, fifo: this.fifo }, this.maxMessageBytes);
    } catch (error) {
      this.recorder.recordFailure(error);
      throw error;
    }
    const pending = this.createPending(entry, bytes);
    if (this.waiting.length === 0 && this.queue.length < this.maxBuffered) {
      this.admit(pending);
      this.pump();
    } else {
      await new Promise<void>((admit) => {
        this.waiting.push({ pending, admit });
      });
    }
    return { receipt: pending.receipt };
  }

  /** Sends everything accepted so far, partial batches included; resolves when all of it has settled. */
  async flush(): Promise<void> {
    this.forcedUpTo = this.seq;
    const receipts = [...this.unsettled].map((pending) => pending.receipt);
    this.pump();
    await Promise.allSettled(receipts);
  }

  /** Refuses new messages, drains the buffer and waits for every message to settle. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.drainAndRelease();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async drainAndRelease(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ownsClient) this.client.destroy();
  }

  private createPending(entry: SendEntry, bytes: number): Pending {
    let resolve!: (receipt: SendReceipt) => void;
    let reject!: (error: unknown) => void;
    const receipt = new Promise<SendReceipt>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: Pending = {
      entry,
      bytes,
      // A standard queue's MessageGroupId is a fair-queue tenant, not an ordering group: its
      // messages may share requests and go out in parallel.
      group: this.fifo ? entry.messageGroupId : undefined,
      seq: ++this.seq,
      receipt,
      resolve,
      reject,
      enqueuedAt: 0,
      attempts: 0,
      lastFailure: '',
    };
    this.unsettled.add(pending);
    return pending;
  }

  private admit(pending: Pending): void {
    pending.enqueuedAt = performance.now();
    this.queue.push(pending);
    this.queuedBytes += pending.bytes;
    if (this.queue.length > this.recorder.peakBuffered) this.recorder.peakBuffered = this.queue.length;
  }

  /** Moves waiting callers into the buffer and starts every request that is ready and allowed. */
  private pump(): void {
    for (;;) {
      while (this.waiting.length > 0 && this.queue.length < this.maxBuffered) {
        const waiter = this.waiting.shift()!;
        this.admit(waiter.pending);
        waiter.admit();
      }
      if (this.requestsInFlight >= this.maxInFlight || this.queue.length === 0) break;
      if (!this.fifo && !this.fullBatchBuffered() && !this.isDue(this.queue[0]!)) break; // the common case, cheaply
      const selection = selectBatch(this.queue, this.limits, this.fifo ? this.groupsInFlight : undefined);
      const first = this.queue[selection.indices[0] ?? -1];
      if (!first || !(selection.full || this.isDue(first))) break;
      void this.dispatch(this.take(selection.indices));
    }
    this.armTimer();
  }

  /** Standard queues: whether the buffer holds enough for a full request. */
  private fullBatchBuffered(): boolean {
    return this.queue.length >= this.limits.maxEntries || this.queuedBytes > this.limits.maxBytes;
  }

  private isDue(oldest: Pending): boolean {
    if (oldest.seq <= this.forcedUpTo) return true;
    // +1: timers may fire a fraction of a millisecond early as performance.now() sees it.
    return this.maxDelayMs > 0 && performance.now() - oldest.enqueuedAt + 1 >= this.maxDelayMs;
  }

  private armTimer(): void {
    if (this.timer || this.maxDelayMs === 0 || this.requestsInFlight >= this.maxInFlight) return;
    const oldest = this.queue[0];
    if (!oldest) return;
    const wait = oldest.enqueuedAt + this.maxDelayMs - performance.now();
    // Already due but not sent: its FIFO group is in flight, and that request's end pumps again.
    if (wait <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.ceil(wait));
  }

  private take(indices: readonly number[]): Pending[] {
    const last = indices[indices.length - 1]!;
    let batch: Pending[];
    if (last === indices.length - 1) {
      batch = this.queue.splice(0, indices.length);
    } else {
      const chosen = new Set(indices);
      batch = [];
      const rest: Pending[] = [];
      for (const [i, pending] of this.queue.entries()) (chosen.has(i) ? batch : rest).push(pending);
      this.queue.splice(0, this.queue.length, ...rest);
    }
    for (const pending of batch) this.queuedBytes -= pending.bytes;
    return batch;
  }

  private async dispatch(batch: Pending[]): Promise<void> {
    this.requestsInFlight++;
    if (this.requestsInFlight > this.recorder.peakInFlight)
      this.recorder.peakInFlight = this.requestsInFlight;
    const groups = new Set(batch.flatMap((pending) => (pending.group === undefined ? [] : [pending.group])));
    for (const group of groups) this.groupsInFlight.add(group);
    try {
      await this.sendWithRetries(batch);
    } finally {
      this.requestsInFlight--;
      for (const group of groups) this.groupsInFlight.delete(group);
      this.pump();
    }
  }

  /** One request slot: sends, then re-sends whatever came back retryable, until nothing is left. */
  private async sendWithRetries(batch: Pending[]): Promise<void> {
    let remaining = batch;
    try {
      await backOff(
        async () => {
          remaining = await this.attempt(remaining);
          if (remaining.length > 0) throw new EntriesNotAccepted();
        },
        {
          numOfAttempts: this.maxAttempts,
          startingDelay: this.retryBaseDelayMs,
          timeMultiple: 2,
          maxDelay: this.retryMaxDelayMs,
          jitter: 'full',
          retry: (error: unknown, attemptsMade: number) => {
            const retryable =
              error instanceof EntriesNotAccepted || classifyRequestError(error) !== undefined;
            if (retryable && attemptsMade < this.maxAttempts) this.recorder.retries += remaining.length;
            return retryable;
          },
        },
      );
    } catch (error) {
      for (const pending of remaining) this.fail(pending, finalError(error, pending));
    }
  }

  /** Sends one SendMessageBatch; settles accepted and refused entries, returns the retryable ones. */
  private async attempt(entries: Pending[]): Promise<Pending[]> {
    this.recorder.requests++;
    this.recorder.requestEntries += entries.length;
    for (const pending of entries) {
      pending.attempts++;
      pending.lastFailure = '';
    }
    let output: { Successful?: SendMessageBatchResultEntry[]; Failed?: BatchResultErrorEntry[] };
    try {
      output = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: entries.map((pending, i) => toSdkEntry(pending.entry, String(i))),
        }),
      );
    } catch (error) {
      const kind = classifyRequestError(error);
      if (kind) this.recorder.recordRequestError(kind);
      for (const pending of entries) pending.lastFailure = describe(error);
      throw error;
    }
    const retry = new Set(entries);
    for (const success of output.Successful ?? []) {
      const pending = entries[Number(success.Id)];
      if (!pending || !retry.delete(pending)) continue;
      this.succeed(pending, success);
    }
    for (const failure of output.Failed ?? []) {
      const pending = entries[Number(failure.Id)];
      if (!pending || !retry.has(pending)) continue;
      const reason = `${failure.Code ?? 'Unknown'}: ${failure.Message ?? ''}`;
      if (isRetryableEntryFailure(failure)) {
        pending.lastFailure = reason;
        continue;
      }
      retry.delete(pending);
      this.fail(
        pending,
        new SqsRejectedError(failure.Code ?? 'Unknown', failure.Message ?? '', pending.attempts),
      );
    }
    // An entry the response does not mention was not accepted: send it again.
    for (const pending of retry) pending.lastFailure ||= 'entry missing from the SendMessageBatch response';
    return entries.filter((pending) => retry.has(pending));
  }

  private succeed(pending: Pending, result: SendMessageBatchResultEntry): void {
    this.recorder.sent++;
    this.unsettled.delete(pending);
    pending.resolve({
      messageId: result.MessageId ?? '',
      ...(result.SequenceNumber === undefined ? {} : { sequenceNumber: result.SequenceNumber }),
      attempts: pending.attempts,
    });
  }

  private fail(pending: Pending, error: unknown): void {
    this.recorder.recordFailure(error);
    this.unsettled.delete(pending);
    pending.reject(error);
  }
}

function toSdkEntry(entry: SendEntry, id: string): SendMessageBatchRequestEntry {
  return {
    Id: id,
    MessageBody: entry.body,
    MessageAttributes: entry.messageAttributes as SendMessageBatchRequestEntry['MessageAttributes'],
    MessageGroupId: entry.messageGroupId,
    MessageDeduplicationId: entry.messageDeduplicationId,
    DelaySeconds: entry.delaySeconds,
    ...(entry.awsTraceHeader === undefined
      ? {}
      : {
          MessageSystemAttributes: {
            AWSTraceHeader: { DataType: 'String', StringValue: entry.awsTraceHeader },
          },
        }),
  };
}

function finalError(error: unknown, pending: Pending): Error {
  if (error instanceof EntriesNotAccepted || classifyRequestError(error) !== undefined) {
    return new RetriesExhaustedError(pending.attempts, pending.lastFailure, { cause: error });
  }
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return new SqsRejectedError(name, message, pending.attempts, { cause: error });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` (${code})` : ''}: ${error.message}`;
}
