import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import {
  integerOption,
  numberOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
  positiveNumberOption,
  textOption,
} from '../core/options.ts';
import { AdaptiveWindows, type ConcurrencyWindows, UNBOUNDED_WINDOWS } from './adaptive-limit.ts';
import { chunkWrites } from './chunk.ts';
import { WriteBatcherClosedError } from './errors.ts';
import { publishWriteStats } from './metrics.ts';
import { planWrites } from './plan.ts';
import {
  type ConsumedCapacityMode,
  MAX_TRANSACTION_BYTES,
  MAX_TRANSACTION_WRITES,
  type SendContext,
  sendGuarded,
  sendGuardedRound,
  sendRound,
} from './send.ts';
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
  /**
   * Sizes each table's share of `maxConcurrency` by how DynamoDB answers (AIMD, as TCP does): a
   * table's window starts at min(4, maxConcurrency) requests in flight, doubles per window of answers
   * until the first throttle, then grows by one per two windows, and halves whenever DynamoDB
   * throttles (a throttling error, UnprocessedItems, a transaction cancelled for throughput), within
   * [1, maxConcurrency]. A table that is never throttled runs at `maxConcurrency` after a few round
   * trips; a throttled one stays near the concurrency its capacity sustains instead of spending
   * requests on throttles. `false`: every table may use all of `maxConcurrency` at once.
   * @default true
   */
  readonly adaptiveConcurrency?: boolean;
  /** First backoff wait (full jitter, doubling). @default 25 */
  readonly baseDelayMs?: number;
  /** Longest single backoff wait. @default 1000 */
  readonly maxDelayMs?: number;
  /**
   * Where the `ConsumedWriteCapacity` metric comes from. `computed`: from the item sizes the batcher
   * measures (1 unit per started KB, at least 1, failed conditions included), without asking
   * DynamoDB — its own figure for new items; replacing a larger stored item or deleting one over
   * 1 KB costs more, so it is then a lower bound — except for tables marked `indexes`, where requests
   * ask for `INDEXES`. `dynamodb`: every request asks `TOTAL` (exact, but on DynamoDB Local it costs
   * about a fifth of the throughput). `off`: not counted. @default 'computed'
   */
  readonly consumedCapacity?: ConsumedCapacityMode;
  /**
   * How version-guarded writes go: `transaction` — `TransactWriteItems` of up to 100 conditional puts
   * (a cancelled transaction's `CancellationReasons` tell stale writes from the rest, which go again),
   * several times the throughput at twice the write units; `conditional-put` — one conditional
   * `PutItem` each (half the write units). Same semantics either way. @default 'transaction'
   */
  readonly versionedWrites?: 'transaction' | 'conditional-put';
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

/** `WriteBatcherOptions` checked, with the defaults documented there applied. */
export const WriteBatcherOptionsSchema = z.object({
  client: objectOption<DynamoDBClient>('a DynamoDBClient'),
  maxConcurrency: integerOption(1, 256).default(8),
  adaptiveConcurrency: z.boolean({ error: 'true or false' }).default(true),
  baseDelayMs: positiveNumberOption().default(25),
  maxDelayMs: positiveNumberOption().default(1000),
  versionedWrites: z
    .enum(['transaction', 'conditional-put'], { error: "'transaction' or 'conditional-put'" })
    .default('transaction'),
  consumedCapacity: z
    .enum(['computed', 'dynamodb', 'off'], { error: "'computed', 'dynamodb' or 'off'" })
    .default('computed'),
  metrics: objectOption<Metrics>('a Powertools Metrics instance').optional(),
  maxBatchSize: integerOption(1).default(100),
  flushDelayMs: numberOption(0).default(20),
  flushTimeoutMs: positiveNumberOption().default(30_000),
  versionAttribute: textOption('a non-empty attribute name').default('_version'),
  deletedAttribute: textOption('a non-empty attribute name').default('_deleted'),
  ttlAttribute: textOption('a non-empty attribute name').default('_expiresAt'),
  tombstoneTtlDays: positiveNumberOption().default(15),
}) satisfies OptionsSchema<WriteBatcherOptions>;

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
  private readonly windows: ConcurrencyWindows;
  private readonly backoff: { baseDelayMs: number; maxDelayMs: number };
  private readonly metrics?: Metrics;
  private readonly capacity: ConsumedCapacityMode;
  private readonly versionedWrites: 'transaction' | 'conditional-put';
  private readonly maxBatchSize: number;
  private readonly flushDelayMs: number;
  private readonly flushTimeoutMs: number;
  private readonly versioning: Versioning;
  private buffer: Buffered[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  /** @throws InvalidOptionError when an option is out of range (the message names it and the rule). */
  constructor(options: WriteBatcherOptions) {
    const resolved = parseOptions('WriteBatcher', WriteBatcherOptionsSchema, options);
    this.client = resolved.client;
    this.maxConcurrency = resolved.maxConcurrency;
    this.limit = pLimit(this.maxConcurrency);
    this.windows = resolved.adaptiveConcurrency
      ? new AdaptiveWindows({ maxConcurrency: this.maxConcurrency })
      : UNBOUNDED_WINDOWS;
    this.backoff = { baseDelayMs: resolved.baseDelayMs, maxDelayMs: resolved.maxDelayMs };
    this.metrics = resolved.metrics;
    this.capacity = resolved.consumedCapacity;
    this.versionedWrites = resolved.versionedWrites;
    this.maxBatchSize = resolved.maxBatchSize;
    this.flushDelayMs = resolved.flushDelayMs;
    this.flushTimeoutMs = resolved.flushTimeoutMs;
    this.versioning = {
      versionAttribute: resolved.versionAttribute,
      deletedAttribute: resolved.deletedAttribute,
      ttlAttribute: resolved.ttlAttribute,
      tombstoneTtlDays: resolved.tombstoneTtlDays,
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
      windows: this.windows,
      deadline: options.deadline,
      backoff: this.backoff,
      capacity: this.capacity,
      versionAttribute: this.versioning.versionAttribute,
      deletedAttribute: this.versioning.deletedAttribute,
      stats,
      outcomes: finals,
    };
    for (const [index, error] of plan.rejected) finals[index] = { status: 'rejected', error };

    const unconditional = plan.writes.filter((w) => w.kind !== 'guardedPut');
    const guarded = plan.writes.filter((w) => w.kind === 'guardedPut');
    await Promise.all([
      (async () => {
        for (const round of chunkWrites(unconditional)) {
          await sendRound(round, ctx);
        }
      })(),
      this.versionedWrites === 'transaction'
        ? (async () => {
            for (const round of chunkWrites(guarded, MAX_TRANSACTION_WRITES, MAX_TRANSACTION_BYTES)) {
              await sendGuardedRound(round, ctx);
            }
          })()
        : Promise.all(guarded.map((write) => sendGuarded(write, ctx))),
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
    staleVersionLag: 0,
  };
}
