import { appendFileSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  type ChangeMessageVisibilityBatchCommandOutput,
  QueueDoesNotExist,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { sqsLimits } from '../../sqs/index.ts';
import { LocalResourceError } from '../errors.ts';

/** A message a poller holds: received, neither deleted nor given up on yet. */
export interface InFlightMessage {
  readonly queueUrl: string;
  readonly receiptHandle: string;
  readonly messageId: string;
}

/** What a poller tells the journal (`InFlightJournal` implements it; tests can pass a fake). */
export interface InFlightRecorder {
  received(messages: readonly InFlightMessage[]): void;
  settled(messageIds: readonly string[]): void;
}

export interface ReleaseOrphansOptions {
  /**
   * Send the releases here instead of the origin in the recorded queue URLs (the SDK sends queue
   * operations to the URL's host; a previous run's gateway port may be gone). local-aws-sqs finds
   * a queue by the last segment of its URL. @default the recorded URLs as they are
   */
  readonly origin?: string;
}

const EntrySchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('received'),
    queueUrl: z.string(),
    receiptHandle: z.string(),
    messageId: z.string(),
  }),
  z.object({ type: z.literal('settled'), messageId: z.string() }),
]);

/** Failures that mean the message is no longer in flight with that handle: deleted, or received again. */
const GONE_CODES = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidParameterValue']);
/** Compact the file once it holds this much and nothing is in flight. */
const COMPACT_BYTES = 1024 * 1024;

/**
 * An append-only file of the messages a local poller holds, written synchronously (one JSON line
 * per event) so it survives a `kill -9`. A killed run's messages stay invisible for the queue's
 * visibility timeout (360 s for the ingest queue); `releaseOrphans` on the next start makes the
 * ones that were never settled visible again at once.
 *
 * @example
 * const journal = new InFlightJournal('.local/in-flight.jsonl');
 * const released = await journal.releaseOrphans(adminSqs);
 * new SqsEventSourcePoller({ sqs, queueUrl, handler, inFlight: journal });
 */
export class InFlightJournal implements InFlightRecorder {
  readonly path: string;
  /** Message ids received and not settled by this process, to know when the file can be compacted. */
  private readonly holding = new Set<string>();
  private bytes = 0;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Messages that were in flight when the process last stopped (or that this one still holds). */
  orphans(): InFlightMessage[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const open = new Map<string, InFlightMessage>();
    for (const line of text.split('\n')) {
      const entry = parseLine(line);
      if (entry?.type === 'received') {
        open.set(entry.messageId, {
          queueUrl: entry.queueUrl,
          receiptHandle: entry.receiptHandle,
          messageId: entry.messageId,
        });
      } else if (entry?.type === 'settled') open.delete(entry.messageId);
    }
    return [...open.values()];
  }

  received(messages: readonly InFlightMessage[]): void {
    if (messages.length === 0) return;
    for (const message of messages) this.holding.add(message.messageId);
    this.append(messages.map((message) => ({ type: 'received', ...message })));
  }

  settled(messageIds: readonly string[]): void {
    if (messageIds.length === 0) return;
    this.append(messageIds.map((messageId) => ({ type: 'settled', messageId })));
    for (const id of messageIds) this.holding.delete(id);
    if (this.holding.size === 0 && this.bytes >= COMPACT_BYTES) this.truncate();
  }

  /**
   * Makes every orphan visible again (ChangeMessageVisibilityBatch, VisibilityTimeout 0, ten at a
   * time), then empties the journal. Messages deleted or received again meanwhile (an invalid
   * receipt handle) and queues that no longer exist are skipped. Call it before any poller starts.
   * Resolves with how many messages were released.
   *
   * @throws LocalResourceError when SQS refuses a release for another reason (the journal is kept).
   */
  async releaseOrphans(sqs: SQSClient, options: ReleaseOrphansOptions = {}): Promise<number> {
    const byQueue = new Map<string, InFlightMessage[]>();
    for (const message of this.orphans()) {
      const list = byQueue.get(message.queueUrl) ?? [];
      list.push(message);
      byQueue.set(message.queueUrl, list);
    }
    let released = 0;
    for (const [recordedUrl, messages] of byQueue) {
      const queueUrl = options.origin ? repoint(recordedUrl, options.origin) : recordedUrl;
      for (let start = 0; start < messages.length; start += sqsLimits.maxBatchEntries) {
        const chunk = messages.slice(start, start + sqsLimits.maxBatchEntries);
        let output: ChangeMessageVisibilityBatchCommandOutput;
        try {
          output = await sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((message, i) => ({
                Id: String(i),
                ReceiptHandle: message.receiptHandle,
                VisibilityTimeout: 0,
              })),
            }),
          );
        } catch (error) {
          if (error instanceof QueueDoesNotExist) break;
          throw error;
        }
        released += output.Successful?.length ?? 0;
        const refused = (output.Failed ?? []).find((failure) => !GONE_CODES.has(failure.Code ?? ''));
        if (refused) {
          throw new LocalResourceError(
            `message ${chunk[Number(refused.Id)]?.messageId} on ${queueUrl}`,
            `could not be made visible again: ${refused.Code} ${refused.Message ?? ''}`.trim(),
          );
        }
      }
    }
    this.truncate();
    return released;
  }

  private append(entries: readonly z.infer<typeof EntrySchema>[]): void {
    const text = `${entries.map((entry) => JSON.stringify(entry)).join('\n')}\n`;
    appendFileSync(this.path, text);
    this.bytes += Buffer.byteLength(text);
  }

  private truncate(): void {
    try {
      truncateSync(this.path, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.bytes = 0;
  }
}

/** One journal line, or undefined for a line a crash cut short. */
function parseLine(line: string): z.infer<typeof EntrySchema> | undefined {
  if (line.trim() === '') return undefined;
  try {
    const parsed = EntrySchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function repoint(queueUrl: string, origin: string): string {
  return URL.canParse(queueUrl) ? `${origin.replace(/\/$/, '')}${new URL(queueUrl).pathname}` : queueUrl;
}
