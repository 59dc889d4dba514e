/**
 * The redrive journal: an append-only file of what the mover did with each DLQ message, written
 * (and flushed) before the step it records, so that a rerun after a crash neither sends a message
 * again nor leaves one behind.
 *
 * Per message (keyed by its DLQ MessageId, which SQS keeps across receives):
 *   `held` (with its receipt handle) once received, so a rerun can make it visible again at once →
 *   `intent` before SendMessageBatch → `sent` when SQS accepted it →
 *   `settled` when DeleteMessageBatch removed it from the DLQ (or SQS refused the send).
 * On a rerun, `sent` means delete only; `intent` means the send's outcome is unknown (the process
 * died between the request and its answer): the message is sent again and reported as possibly
 * duplicated (a FIFO destination drops the copy: same deduplication ID, within 5 minutes).
 */

import { createHash } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { RedriveJournalError } from '../errors.ts';

/**
 * Where a message stands: received (hidden from other receivers, nothing sent), about to be sent
 * (or sent, unconfirmed), or sent and not yet deleted.
 */
export type JournalState = 'held' | 'intent' | 'sent';

export interface JournalRecord {
  readonly state: JournalState;
  /** When the state was recorded (ms since the epoch). */
  readonly at: number;
  /** The receipt handle it was received with, to hand it back at once on a rerun. */
  readonly receiptHandle?: string;
}

/** The queues a journal belongs to: a journal is never used for another pair. */
export interface JournalScope {
  readonly source: string;
  readonly destination: string;
}

/** Records older than SQS's longest retention (14 days) are of messages that are gone. */
const KEEP_MS = 14 * 24 * 3600 * 1000;
const FORMAT = 'pipeline-dlq-redrive';

const HeaderSchema = z.object({
  journal: z.literal(FORMAT),
  version: z.literal(1),
  source: z.string(),
  destination: z.string(),
});
const LineSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('held'), id: z.string(), rh: z.string().optional(), at: z.number() }),
  z.object({ t: z.literal('intent'), id: z.string(), rh: z.string().optional(), at: z.number() }),
  z.object({ t: z.literal('sent'), id: z.string(), rh: z.string().optional(), at: z.number() }),
  z.object({ t: z.literal('settled'), id: z.string() }),
]);

/** `.local/dlq-redrive/<dlq name>-<hash of both URLs>.jsonl` under `cwd`. */
export function defaultJournalPath(cwd: string, scope: JournalScope): string {
  const hash = createHash('sha256')
    .update(`${scope.source}\n${scope.destination}`)
    .digest('hex')
    .slice(0, 10);
  const name = basename(new URL(scope.source).pathname).replace(/[^A-Za-z0-9_.-]/g, '_') || 'dlq';
  return resolve(cwd, '.local', 'dlq-redrive', `${name}-${hash}.jsonl`);
}

/**
 * The journal of one source → destination pair, held by one process at a time (`<path>.lock`).
 *
 * @example
 * const journal = RedriveJournal.open(path, { source: dlqUrl, destination });
 * try { … journal.intend(batch); send; journal.sent(ids); delete; journal.settled(ids); } finally { journal.close(); }
 */
export class RedriveJournal {
  private readonly records = new Map<string, JournalRecord>();
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    private readonly scope: JournalScope,
    private readonly now: () => number,
  ) {}

  /**
   * Opens (or creates) the journal at `path` and takes its lock.
   *
   * @throws RedriveJournalError when it is held by a live process, unreadable, corrupt, or written
   *   for other queues.
   */
  static open(path: string, scope: JournalScope, now: () => number = Date.now): RedriveJournal {
    const journal = new RedriveJournal(path, scope, now);
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (cause) {
      throw new RedriveJournalError('JOURNAL_UNREADABLE', path, (cause as Error).message, { cause });
    }
    takeLock(path);
    try {
      journal.load();
      // Compacts, and drops a torn last line that appends would otherwise continue.
      journal.rewrite();
      journal.fd = openSync(path, 'a');
    } catch (error) {
      releaseLock(path);
      if (error instanceof RedriveJournalError) throw error;
      throw new RedriveJournalError('JOURNAL_UNREADABLE', path, (error as Error).message, { cause: error });
    }
    return journal;
  }

  /** Where `messageId` stands, if an earlier step (of this run or a crashed one) recorded it. */
  get(messageId: string): JournalRecord | undefined {
    return this.records.get(messageId);
  }

  /** Every message recorded and not deleted. */
  pending(): ReadonlyMap<string, JournalRecord> {
    return this.records;
  }

  /** Received: hidden until their visibility timeout ends, or until a rerun hands them back. */
  hold(messages: readonly { readonly messageId: string; readonly receiptHandle?: string }[]): void {
    const at = this.now();
    const fresh = messages.filter((m) => !this.records.has(m.messageId));
    this.append(
      fresh.map((m) => {
        const record: JournalRecord = { state: 'held', at, receiptHandle: m.receiptHandle };
        this.records.set(m.messageId, record);
        return recordLine(m.messageId, record);
      }),
    );
  }

  /** Before sending: these messages may reach the destination from now on. */
  intend(messages: readonly { readonly messageId: string; readonly receiptHandle?: string }[]): void {
    const at = this.now();
    this.append(
      messages.map((m) => {
        const record: JournalRecord = { state: 'intent', at, receiptHandle: m.receiptHandle };
        this.records.set(m.messageId, record);
        return recordLine(m.messageId, record);
      }),
    );
  }

  /** SQS accepted these messages at the destination: from now on they are deleted, never sent again. */
  sent(messageIds: readonly string[]): void {
    const at = this.now();
    this.append(
      messageIds.map((id) => {
        const receiptHandle = this.records.get(id)?.receiptHandle;
        this.records.set(id, { state: 'sent', at, receiptHandle });
        return recordLine(id, { state: 'sent', at, receiptHandle });
      }),
    );
  }

  /**
   * Nothing more to do for these messages: deleted from the DLQ, handed back to it, or refused by
   * SQS at the destination (so never stored there, and still in the DLQ).
   */
  settled(messageIds: readonly string[]): void {
    this.append(
      messageIds.map((id) => {
        this.records.delete(id);
        return { t: 'settled', id };
      }),
    );
  }

  /**
   * Compacts the file to what is still pending (removes it when nothing is) and releases the lock.
   * Not called after a crash: the next run reads the file as it was left.
   */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    const oldest = this.now() - KEEP_MS;
    for (const [id, record] of this.records) if (record.at < oldest) this.records.delete(id);
    if (this.records.size === 0) rmSync(this.path, { force: true });
    else this.rewrite();
    releaseLock(this.path);
  }

  private append(lines: readonly object[]): void {
    if (lines.length === 0) return;
    if (this.fd === undefined) throw new Error(`redrive journal ${this.path} is closed`);
    writeSync(this.fd, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    // The step it records comes next: the line must be on disk first.
    fdatasyncSync(this.fd);
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const lines = text.split('\n');
    // The last element is '' after a complete line, or the torn line a process killed mid-write
    // left (no newline yet): the step it announced never ran.
    lines.pop();
    if (lines.length === 0) return;
    const header = HeaderSchema.safeParse(parseJson(lines[0]!));
    if (!header.success) throw this.corrupt(1, 'not a redrive journal header');
    const { source, destination } = header.data;
    if (source !== this.scope.source || destination !== this.scope.destination) {
      throw new RedriveJournalError(
        'JOURNAL_MISMATCH',
        this.path,
        `it records a redrive from ${source} to ${destination}, not from ${this.scope.source} to ${this.scope.destination}; ` +
          'pass another --journal',
      );
    }
    for (let i = 1; i < lines.length; i++) {
      const line = LineSchema.safeParse(parseJson(lines[i]!));
      if (!line.success) throw this.corrupt(i + 1, 'not a journal record');
      const entry = line.data;
      if (entry.t === 'settled') this.records.delete(entry.id);
      else this.records.set(entry.id, { state: entry.t, at: entry.at, receiptHandle: entry.rh });
    }
  }

  /** Writes the header and the pending records to a new file, then renames it over the journal. */
  private rewrite(): void {
    const header = { journal: FORMAT, version: 1, ...this.scope };
    const lines = [header, ...[...this.records].map(([id, r]) => recordLine(id, r))];
    const temporary = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    writeFileSync(temporary, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    const fd = this.fd;
    renameSync(temporary, this.path);
    if (fd !== undefined) {
      // Appends must go to the renamed file, not to the unlinked one.
      closeSync(fd);
      this.fd = openSync(this.path, 'a');
    }
  }

  private corrupt(line: number, detail: string): RedriveJournalError {
    return new RedriveJournalError(
      'JOURNAL_CORRUPT',
      this.path,
      `line ${line}: ${detail}; move it aside only if no redrive from ${this.scope.source} was interrupted`,
    );
  }
}

function recordLine(id: string, record: JournalRecord): object {
  return {
    t: record.state,
    id,
    ...(record.receiptHandle ? { rh: record.receiptHandle } : {}),
    at: record.at,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function takeLock(path: string): void {
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new RedriveJournalError('JOURNAL_UNREADABLE', path, (error as Error).message, { cause: error });
      }
    }
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new RedriveJournalError(
        'JOURNAL_LOCKED',
        path,
        `process ${pid} is redriving with it (${lock}); wait for it to finish`,
      );
    }
    // Left by a process that died: its journal is what the rerun needs.
    rmSync(lock, { force: true });
  }
  throw new RedriveJournalError('JOURNAL_LOCKED', path, `cannot take ${lock}`);
}

function releaseLock(path: string): void {
  rmSync(`${path}.lock`, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
