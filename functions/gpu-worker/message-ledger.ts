/**
 * The worker's message ledger: which gpu-work messages it holds and how many of their jobs are left.
 * It keeps held messages invisible (heartbeat) and task protection on while any is held, and settles
 * each message once its last job is accounted for: deleted when every job has a durable final record,
 * handed back otherwise, with a backoff for transient failures. Deletes and visibility changes go out
 * batched, once per tick.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { TaskProtection } from './task-protection.ts';
import type { ReceivedMessage, WorkSource } from './work-source.ts';

export interface MessageLedgerOptions {
  readonly source: WorkSource;
  readonly protection: TaskProtection;
  readonly logger: Pick<Logger, 'warn'>;
  /** What the heartbeat extends held messages to. */
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatIntervalMs: number;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/**
 * How one job of a held message ended: its final record is durable, it hit a transient error (hand
 * the message back for a later retry), or the worker is stopping (hand the message back at once).
 */
export type JobEnd = 'durable' | 'retry' | 'handBack';

/** A held message: the handle `hold()` returns and `settle()` takes. */
export interface HeldMessage {
  readonly message: ReceivedMessage;
}

interface Tracked extends HeldMessage {
  jobsLeft: number;
  /** Some job hit a transient error: hand the message back for a later retry. */
  retry: boolean;
  /** Stopping: hand the message back at once. */
  handBack: boolean;
  /** Deleted or released: later news about it is ignored. */
  settled: boolean;
  visibleUntil: number;
}

/** Visibility before a message that failed transiently comes back: 1, 2, 4 … 30 s. */
export function backoffSeconds(receiveCount: number): number {
  return Math.min(30, 2 ** Math.max(0, receiveCount - 1));
}

/**
 * @example
 * const ledger = new MessageLedger({ source, protection, logger, visibilityTimeoutSeconds: 60, heartbeatIntervalMs: 20_000 });
 * ledger.startHeartbeat();
 * const held = ledger.hold(message, jobs.length);
 * ledger.settle(held, 'durable');          // once per job; the last one deletes the message
 */
export class MessageLedger {
  private readonly now: () => number;
  private readonly messages = new Map<string, Tracked>();
  private readonly ops = new Set<Promise<void>>();
  private pendingDeletes: Tracked[] = [];
  private pendingReleases: { tracked: Tracked; seconds: number }[] = [];
  private opsScheduled = false;
  private heldJobs = 0;
  private stopping = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private busy = false;
  private handedBack = 0;

  constructor(private readonly options: MessageLedgerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Jobs of held messages not yet accounted for. */
  get jobsHeld(): number {
    return this.heldJobs;
  }

  /** Messages handed back (visibility 0) since `stop()`. */
  get released(): number {
    return this.handedBack;
  }

  /** Holds a received message with `jobs` jobs to account for. */
  hold(message: ReceivedMessage, jobs: number): HeldMessage {
    const tracked: Tracked = {
      message,
      jobsLeft: jobs,
      retry: false,
      handBack: false,
      settled: false,
      visibleUntil: this.now() + this.options.visibilityTimeoutSeconds * 1000,
    };
    this.messages.set(message.messageId, tracked);
    this.heldJobs += jobs;
    this.updateBusy();
    return tracked;
  }

  /** A message that is not work at all: backs it off now (SQS moves it to the DLQ after maxReceiveCount). */
  backOff(message: ReceivedMessage): void {
    const seconds = backoffSeconds(message.receiveCount);
    this.track(() => this.options.source.changeVisibility([message], seconds).then(() => undefined));
  }

  /** One job of `held` is accounted for; the last one decides the message's fate. */
  settle(held: HeldMessage, end: JobEnd): void {
    const tracked = held as Tracked;
    this.heldJobs--;
    if (end === 'retry') tracked.retry = true;
    if (end === 'handBack') tracked.handBack = true;
    if (--tracked.jobsLeft > 0 || tracked.settled) return;
    tracked.settled = true;
    this.messages.delete(tracked.message.messageId);
    if (tracked.handBack) this.queueRelease(tracked, 0);
    else if (tracked.retry)
      this.queueRelease(tracked, this.stopping ? 0 : backoffSeconds(tracked.message.receiveCount));
    else this.pendingDeletes.push(tracked);
    this.scheduleOps();
    this.updateBusy();
  }

  /** Extends held messages on every `heartbeatIntervalMs` until `close()`. */
  startHeartbeat(): void {
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatIntervalMs);
  }

  /** The worker is stopping: retried messages come back at once, and hand-backs are counted. */
  stop(): void {
    this.stopping = true;
  }

  /** Hands back (visibility 0) every message still held, now. */
  releaseAll(): void {
    for (const tracked of this.messages.values()) {
      if (tracked.settled) continue;
      tracked.settled = true;
      this.queueRelease(tracked, 0);
    }
    this.messages.clear();
    this.flushOps();
  }

  /** Resolves when every queue call made so far has settled. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.ops]);
  }

  /** Stops the heartbeat and drops task protection if nothing is held. */
  close(): void {
    clearInterval(this.heartbeat);
    this.updateBusy();
  }

  private queueRelease(tracked: Tracked, seconds: number): void {
    if (this.stopping) this.handedBack++;
    this.pendingReleases.push({ tracked, seconds });
  }

  /** Deletes and releases go out in batches of up to 10, once per tick. */
  private scheduleOps(): void {
    if (this.opsScheduled) return;
    this.opsScheduled = true;
    setImmediate(() => {
      this.opsScheduled = false;
      this.flushOps();
    });
  }

  private flushOps(): void {
    const deletes = this.pendingDeletes.splice(0);
    const releases = this.pendingReleases.splice(0);
    if (deletes.length > 0) {
      this.track(async () => {
        const failed = await this.options.source.delete(deletes.map((t) => t.message));
        // Not deleted: it comes back, and its jobs' writes are stale (no harm, only GPU time).
        if (failed.length > 0) this.options.logger.warn('delete failed', { messageIds: failed });
      });
    }
    const bySeconds = new Map<number, ReceivedMessage[]>();
    for (const { tracked, seconds } of releases) {
      bySeconds.set(seconds, [...(bySeconds.get(seconds) ?? []), tracked.message]);
    }
    for (const [seconds, messages] of bySeconds) {
      this.track(async () => {
        await this.options.source.changeVisibility(messages, seconds);
      });
    }
  }

  private track(op: () => Promise<void>): void {
    const promise = op()
      .catch((error: unknown) => this.options.logger.warn('queue call failed', { error }))
      .finally(() => this.ops.delete(promise));
    this.ops.add(promise);
  }

  /** Heartbeat: extend messages that would become visible before the next beat; renew protection. */
  private beat(): void {
    const now = this.now();
    const horizon = now + 2 * this.options.heartbeatIntervalMs;
    const due = [...this.messages.values()].filter((t) => !t.settled && t.visibleUntil <= horizon);
    if (due.length > 0) {
      const seconds = this.options.visibilityTimeoutSeconds;
      for (const t of due) t.visibleUntil = now + seconds * 1000;
      this.track(async () => {
        const failed = await this.options.source.changeVisibility(
          due.map((t) => t.message),
          seconds,
        );
        if (failed.length > 0) this.options.logger.warn('heartbeat failed', { messageIds: failed });
      });
    }
    if (this.busy) void this.options.protection.setBusy(true);
  }

  private updateBusy(): void {
    const busy = this.messages.size > 0;
    if (busy === this.busy) return;
    this.busy = busy;
    void this.options.protection.setBusy(busy);
  }
}
