import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pLimit, { type LimitFunction } from 'p-limit';
import { chunkWrites } from './chunk.ts';
import { WriteBatcherClosedError } from './errors.ts';
import { publishWriteStats } from './metrics.ts';
import { planWrites } from './plan.ts';
import { type SendContext, sendBatch, sendGuarded } from './send.ts';
import type {
  Deadline,
  FinalOutcome,
  Outcome,
  Versioning,
  WriteRequest,
  WriteResult,
  WriteStats,
} from './types.ts';

export interface WriteBatcherOptions {
  /** Create it with `maxAttempts: 1` so retries are the batcher's, deadline-aware and counted. */
  readonly client: DynamoDBClient;
  /** Most DynamoDB requests in flight at once, across every call. @default 8 */
  readonly maxConcurrency?: number;
  /** First backoff wait (full jitter, doubling). @default 25 */
  readonly baseDelayMs?: number;
  /** Longest single backoff wait. @default 1000 */
  readonly maxDelayMs?: number;
  /**
   * Ask DynamoDB for the write capacity each request consumed (the `ConsumedWriteCapacity` metric).
   * On DynamoDB Local this costs about a fifth of the throughput. @default true
   */
  readonly returnConsumedCapacity?: boolean;
  /** Counters are added here after every `writeAll` and streaming flush (EMF). */
  readonly metrics?: Metrics;
  /** Streaming: flush once this many requests are buffered. @default 100 */
  readonly maxBatchSize?: number;
  /** Streaming: longest wait before a buffered request is sent. @default 20 */
  readonly flushDelayMs?: number;
  /** Streaming: each flush gives up retrying after this long. @default 30000 */
  readonly flushTimeoutMs?: number;
  /** Attribute that stores the version of a version-guarded write (and that its condition compares). @default '_version' */
  readonly versionAttribute?: string;
  /** Attribute set to `true` on the tombstone a versioned delete leaves. @default '_deleted' */
  readonly deletedAttribute?: string;
  /** TTL attribute (epoch seconds) on a tombstone, so the table can expire it. @default '_expiresAt' */
  readonly ttlAttribute?: string;
  /**
   * How long a tombstone lives. Keep it longer than a redelivery can arrive (SQS keeps messages at
   * most 14 days), or a late older put could resurrect a deleted item. @default 15
   */
  readonly tombstoneTtlDays?: number;
}

interface Buffered {
  readonly request: WriteRequest;
  readonly resolve: (outcome: Outcome) => void;
}

/**
 * Applies write requests to DynamoDB: coalesces per item, chunks to BatchWriteItem's limits, sends
 * with bounded concurrency, retries inside a deadline, guards versions with conditional writes, and
 * returns one outcome per input — nothing is dropped without one.
 *
 * @example
 * const batcher = new WriteBatcher({ client: new DynamoDBClient({ maxAttempts: 1 }) });
 * const { outcomes } = await batcher.writeAll(requests, { deadline: { at: Date.now() + 10_000 } });
 */
export class WriteBatcher {
  readonly maxConcurrency: number;
  private readonly client: DynamoDBClient;
  private readonly limit: LimitFunction;
  private readonly backoff: { baseDelayMs: number; maxDelayMs: number };
  private readonly metrics?: Metrics;
  private readonly returnConsumedCapacity: 'TOTAL' | 'NONE';
  private readonly maxBatchSize: number;
  private readonly flushDelayMs: number;
  private readonly flushTimeoutMs: number;
  private readonly versioning: Versioning;
  private buffer: Buffered[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(options: WriteBatcherOptions) {
    this.client = options.client;
    this.maxConcurrency = positive('maxConcurrency', options.maxConcurrency ?? 8);
    this.limit = pLimit(this.maxConcurrency);
    this.backoff = {
      baseDelayMs: positive('baseDelayMs', options.baseDelayMs ?? 25),
      maxDelayMs: positive('maxDelayMs', options.maxDelayMs ?? 1000),
    };
    this.metrics = options.metrics;
    this.returnConsumedCapacity = (options.returnConsumedCapacity ?? true) ? 'TOTAL' : 'NONE';
    this.maxBatchSize = positive('maxBatchSize', options.maxBatchSize ?? 100);
    this.flushDelayMs = options.flushDelayMs ?? 20;
    this.flushTimeoutMs = positive('flushTimeoutMs', options.flushTimeoutMs ?? 30_000);
    this.versioning = {
      versionAttribute: attributeName('versionAttribute', options.versionAttribute ?? '_version'),
      deletedAttribute: attributeName('deletedAttribute', options.deletedAttribute ?? '_deleted'),
      ttlAttribute: attributeName('ttlAttribute', options.ttlAttribute ?? '_expiresAt'),
      tombstoneTtlDays: positive('tombstoneTtlDays', options.tombstoneTtlDays ?? 15),
    };
  }

  /**
   * Writes a whole batch and resolves with one outcome per request (index-aligned). Never throws for
   * a write that failed: what is not written at the deadline comes back `retryable`.
   */
  async writeAll(requests: readonly WriteRequest[], options: { deadline: Deadline }): Promise<WriteResult> {
    const stats = emptyStats(requests.length);
    const plan = planWrites(requests, this.versioning);
    const finals: FinalOutcome[] = new Array(requests.length);
    const ctx: SendContext = {
      client: this.client,
      limit: this.limit,
      deadline: options.deadline,
      backoff: this.backoff,
      returnConsumedCapacity: this.returnConsumedCapacity,
      versionAttribute: this.versioning.versionAttribute,
      stats,
      outcomes: finals,
    };
    for (const [index, error] of plan.rejected) finals[index] = { status: 'rejected', error };

    const unconditional = plan.writes.filter((w) => w.kind !== 'guardedPut');
    const guarded = plan.writes.filter((w) => w.kind === 'guardedPut');
    await Promise.all([
      (async () => {
        for (const round of chunkWrites(unconditional)) {
          await Promise.all(round.map((chunk) => sendBatch(chunk, ctx)));
        }
      })(),
      ...guarded.map((write) => sendGuarded(write, ctx)),
    ]);

    const outcomes = resolveOutcomes(plan.carrier, finals);
    countOutcomes(outcomes, stats);
    if (this.metrics) publishWriteStats(this.metrics, stats);
    return { outcomes, stats };
  }

  /**
   * Streaming mode for long-running workers: buffers the request and resolves with its outcome once
   * the buffer is flushed (by size, by `flushDelayMs`, or by `flush()` / `close()`).
   */
  add(request: WriteRequest): Promise<Outcome> {
    if (this.closed) return Promise.reject(new WriteBatcherClosedError());
    return new Promise<Outcome>((resolve) => {
      this.buffer.push({ request, resolve });
      if (this.buffer.length >= this.maxBatchSize) this.flushBuffer();
      else this.timer ??= setTimeout(() => this.flushBuffer(), this.flushDelayMs);
    });
  }

  /** Sends everything buffered and waits for every flush in flight. */
  async flush(): Promise<void> {
    this.flushBuffer();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Flushes, then refuses further `add()` calls. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private flushBuffer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    const run = this.writeAll(
      batch.map((b) => b.request),
      { deadline: { at: Date.now() + this.flushTimeoutMs } },
    ).then(
      ({ outcomes }) => {
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outcomes[i]!);
      },
      (error: unknown) => {
        const outcome: Outcome = { status: 'retryable', reason: 'error', detail: String(error) };
        for (const b of batch) b.resolve(outcome);
      },
    );
    const tracked = run.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}

function resolveOutcomes(carrier: Int32Array, finals: FinalOutcome[]): Outcome[] {
  const outcomes: Outcome[] = new Array(carrier.length);
  for (let i = 0; i < carrier.length; i++) {
    const c = carrier[i]!;
    const final = finals[c] ?? MISSING;
    outcomes[i] = c === i ? final : { status: 'coalesced', supersededBy: c, final };
  }
  return outcomes;
}

// Defensive: a write that somehow got no outcome is reported retryable, never taken for written.
const MISSING: FinalOutcome = Object.freeze({
  status: 'retryable',
  reason: 'error',
  detail: 'no outcome recorded',
});

function countOutcomes(outcomes: readonly Outcome[], stats: WriteStats): void {
  for (const outcome of outcomes) {
    switch (outcome.status) {
      case 'written':
        stats.written++;
        break;
      case 'stale':
        stats.stale++;
        break;
      case 'coalesced':
        stats.coalesced++;
        break;
      case 'rejected':
        stats.rejected++;
        break;
      case 'retryable':
        stats.retryableFailures++;
        break;
    }
  }
}

export function emptyStats(inputs = 0): WriteStats {
  return {
    inputs,
    written: 0,
    coalesced: 0,
    stale: 0,
    rejected: 0,
    retryableFailures: 0,
    batchRequests: 0,
    conditionalRequests: 0,
    unprocessedRetried: 0,
    throttles: 0,
    transientErrors: 0,
    consumedWriteCapacity: 0,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`WriteBatcher option ${name} must be a positive number, got ${value}`);
  }
  return value;
}

function attributeName(name: string, value: string): string {
  if (value.length === 0) {
    throw new RangeError(`WriteBatcher option ${name} must be a non-empty attribute name, got ""`);
  }
  return value;
}
