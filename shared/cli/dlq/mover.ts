/**
 * The receive → send → delete mover of `pipeline dlq redrive`: used where SQS's message move task
 * is missing, when a filter picks some codes, or with `--mover`. Every step is recorded in the
 * redrive journal before it is taken (see journal.ts), so a process killed at any point and run
 * again ends with each message once at the destination and gone from the DLQ; the one exception,
 * a send whose answer was lost, is re-sent and reported in `possiblyDuplicated` (a FIFO destination
 * drops the copy itself).
 */

import {
  DeleteMessageBatchCommand,
  type Message,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { classifyAwsError } from '../../core/aws-errors.ts';
import { isFifoQueueUrl, sqsLimits } from '../../sqs/index.ts';
import type { RedriveJournal } from './journal.ts';
import { letterOf } from './letters.ts';
import { Receiver } from './receive.ts';
import { redriveEntry, redriveEntryBytes } from './redrive-entry.ts';
import { queueDepth, request } from './sqs.ts';
import type { TokenBucket } from './token-bucket.ts';
import { releaseMessages } from './visibility.ts';

/** How long SQS FIFO queues remember a deduplication ID. */
const FIFO_DEDUP_WINDOW_MS = 5 * 60 * 1000;

export interface MoverOptions {
  readonly client: SQSClient;
  /** The dead-letter queue. */
  readonly source: string;
  readonly destination: string;
  /** Opened and closed by the caller. */
  readonly journal: RedriveJournal;
  /** Only these codes move (`none` for messages without `ErrorCode`); the rest stay. @default all */
  readonly codes?: readonly string[];
  /** Count what would move; move nothing. */
  readonly dryRun?: boolean;
  /** Limits the rate of moves. @default no limit */
  readonly bucket?: TokenBucket;
  /** Seconds a received message stays hidden while the run goes on. */
  readonly visibilityTimeoutS: number;
  /** Stops after the batch in hand. */
  readonly signal?: AbortSignal;
  /** @default Date.now */
  readonly now?: () => number;
}

/** What a mover run did (live: progress reads it while the run goes on). */
export interface MoverStats {
  /** Sent and deleted by this run (with `dryRun`: would be). */
  moved: number;
  /** Of `moved`: already sent by an interrupted run, only deleted by this one. */
  resumed: number;
  /** Moved per code. */
  readonly byCode: Record<string, number>;
  /** Not picked by the filter: still in the DLQ. */
  left: number;
  /** SQS refused them at the destination: still in the DLQ. */
  failed: number;
  readonly failedByReason: Record<string, number>;
  /** Sent, but their delete failed: the next run deletes them (the journal says they were sent). */
  deletePending: number;
  /** DLQ MessageIds whose send may have reached the destination twice (its answer was lost). */
  readonly possiblyDuplicated: string[];
  /** Messages an interrupted run had hidden, handed back at the start. */
  released: number;
}

/** Moves messages from `source` to `destination` until the DLQ has nothing new, or `signal` aborts. */
export class Mover {
  readonly stats: MoverStats = {
    moved: 0,
    resumed: 0,
    byCode: {},
    left: 0,
    failed: 0,
    failedByReason: {},
    deletePending: 0,
    possiblyDuplicated: [],
    released: 0,
  };
  private readonly fifo: boolean;
  private readonly now: () => number;
  private readonly receiver: Receiver;
  private readonly pendingDeletes = new Set<string>();

  constructor(private readonly options: MoverOptions) {
    this.fifo = isFifoQueueUrl(options.destination);
    this.now = options.now ?? Date.now;
    this.receiver = new Receiver({
      client: options.client,
      queueUrl: options.source,
      visibilityTimeoutS: options.visibilityTimeoutS,
    });
  }

  async run(): Promise<MoverStats> {
    const { bucket, signal } = this.options;
    await this.releaseLeftovers();
    let drained = false;
    try {
      while (!signal?.aborted) {
        let tokens: number = sqsLimits.maxReceiveMessages;
        if (bucket) {
          try {
            tokens = await bucket.take(sqsLimits.maxReceiveMessages, signal);
          } catch (error) {
            if (signal?.aborted) break;
            throw error;
          }
        }
        const batch = await this.receiver.next(tokens);
        if (batch === undefined) {
          drained = true;
          break;
        }
        bucket?.refund(tokens - batch.length);
        this.options.journal.hold(
          batch.map((m) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle })),
        );
        await this.moveBatch(batch);
      }
    } finally {
      this.stats.deletePending = this.pendingDeletes.size;
      // What stays in the DLQ (filtered out, dry run, refused) is visible again at once.
      await releaseMessages(this.options.client, this.options.source, this.receiver.receiptHandles);
      this.settleHeld();
    }
    if (drained && !this.options.dryRun) await this.forgetIfEmpty();
    return this.stats;
  }

  /**
   * A run killed after a delete and before its journal line leaves `sent` records of messages that
   * are gone. Once the DLQ holds nothing at all (none visible, none in flight), no record can
   * matter any more: they are dropped, and the journal file goes.
   */
  private async forgetIfEmpty(): Promise<void> {
    const { journal } = this.options;
    if (journal.pending().size === 0 || this.pendingDeletes.size > 0) return;
    const depth = await queueDepth(this.options.client, this.options.source);
    if (depth.visible === 0 && depth.inFlight === 0) journal.settled([...journal.pending().keys()]);
  }

  private async moveBatch(batch: readonly Message[]): Promise<void> {
    const { codes, dryRun, journal } = this.options;
    const toSend: Message[] = [];
    const sentBefore: Message[] = [];
    for (const message of batch) {
      const { code } = letterOf(message);
      if (codes !== undefined && !codes.includes(code)) {
        this.stats.left++;
      } else if (dryRun) {
        this.stats.moved++;
        this.stats.byCode[code] = (this.stats.byCode[code] ?? 0) + 1;
      } else if (journal.get(message.MessageId!)?.state === 'sent') {
        sentBefore.push(message);
      } else {
        toSend.push(message);
      }
    }
    if (toSend.length === 0 && sentBefore.length === 0) return;

    for (const message of toSend) {
      const record = journal.get(message.MessageId!);
      // A send of an interrupted run may have reached the destination; a FIFO queue drops a copy
      // with the same deduplication ID for five minutes.
      if (record?.state === 'intent' && !(this.fifo && this.now() - record.at < FIFO_DEDUP_WINDOW_MS)) {
        this.stats.possiblyDuplicated.push(message.MessageId!);
      }
    }
    journal.intend(toSend.map((m) => ({ messageId: m.MessageId!, receiptHandle: m.ReceiptHandle })));
    const sent = await this.send(toSend);
    journal.sent(sent.map((m) => m.MessageId!));
    await this.delete([...sentBefore, ...sent], new Set(sentBefore.map((m) => m.MessageId!)));
  }

  /** Sends `messages` in batches within SQS's limits; resolves with those SQS accepted. */
  private async send(messages: readonly Message[]): Promise<Message[]> {
    const accepted: Message[] = [];
    for (const chunk of chunks(messages.map((m) => ({ message: m, entry: redriveEntry(m, this.fifo) })))) {
      const entries: SendMessageBatchRequestEntry[] = chunk.map(({ entry }, i) => ({
        Id: String(i),
        ...entry,
      }));
      let uncertain = false;
      const { Successful = [], Failed = [] } = await request(
        'SendMessageBatch',
        this.options.destination,
        () =>
          this.options.client.send(
            new SendMessageBatchCommand({ QueueUrl: this.options.destination, Entries: entries }),
          ),
        {
          // Throttled requests were not stored; after a 5xx or a dropped connection they may have been.
          onRetry: (error) => {
            if (classifyAwsError(error) !== 'throttle') uncertain = true;
          },
        },
      );
      for (const ok of Successful) {
        const { message } = chunk[Number(ok.Id)]!;
        accepted.push(message);
        if (uncertain && !this.fifo) this.stats.possiblyDuplicated.push(message.MessageId!);
      }
      const refused = Failed.map((f) => ({ failure: f, message: chunk[Number(f.Id)]!.message }));
      for (const { failure } of refused) {
        this.stats.failed++;
        const reason = failure.Code ?? 'Unknown';
        this.stats.failedByReason[reason] = (this.stats.failedByReason[reason] ?? 0) + 1;
      }
      // Refused entries were not stored: nothing is pending for them, and they stay in the DLQ.
      this.options.journal.settled(refused.map(({ message }) => message.MessageId!));
    }
    return accepted;
  }

  private async delete(messages: readonly Message[], resumed: ReadonlySet<string>): Promise<void> {
    for (let start = 0; start < messages.length; start += sqsLimits.maxBatchEntries) {
      const chunk = messages.slice(start, start + sqsLimits.maxBatchEntries);
      const { Successful = [], Failed = [] } = await request('DeleteMessageBatch', this.options.source, () =>
        this.options.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.source,
            Entries: chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        ),
      );
      const deleted = Successful.map((ok) => chunk[Number(ok.Id)]!);
      this.options.journal.settled(deleted.map((m) => m.MessageId!));
      for (const message of deleted) {
        const id = message.MessageId!;
        this.receiver.forget(id);
        this.pendingDeletes.delete(id);
        const { code } = letterOf(message);
        this.stats.moved++;
        if (resumed.has(id)) this.stats.resumed++;
        this.stats.byCode[code] = (this.stats.byCode[code] ?? 0) + 1;
      }
      for (const failure of Failed) {
        // The receipt handle expired (the message was received again): it is sent, so when it
        // comes back it is deleted only, in this run or the next.
        const id = chunk[Number(failure.Id)]!.MessageId!;
        this.receiver.forget(id);
        this.pendingDeletes.add(id);
      }
    }
  }

  /** Hands back at once the messages an interrupted run had received and not settled. */
  private async releaseLeftovers(): Promise<void> {
    const handles = [...this.options.journal.pending().values()]
      .map((record) => record.receiptHandle)
      .filter((handle): handle is string => handle !== undefined);
    if (handles.length > 0) {
      this.stats.released = await releaseMessages(this.options.client, this.options.source, handles);
    }
    this.settleHeld();
  }

  /** Messages only received (nothing sent) are back in the DLQ, or will be: nothing to remember. */
  private settleHeld(): void {
    const { journal } = this.options;
    const held = [...journal.pending()].filter(([, record]) => record.state === 'held').map(([id]) => id);
    journal.settled(held);
  }
}

type Outgoing = { readonly message: Message; readonly entry: Omit<SendMessageBatchRequestEntry, 'Id'> };

/** Groups of at most ten entries and 1 MiB, in order. */
function chunks(items: readonly Outgoing[]): Outgoing[][] {
  const groups: Outgoing[][] = [];
  let current: Outgoing[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = redriveEntryBytes(item.entry);
    if (
      current.length > 0 &&
      (current.length === sqsLimits.maxBatchEntries || bytes + size > sqsLimits.maxRequestBytes)
    ) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
