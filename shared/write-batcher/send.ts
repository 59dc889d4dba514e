import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type ConsumedCapacity,
  type DynamoDBClient,
  type WriteRequest as DynamoWriteRequest,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { LimitFunction } from 'p-limit';
import { MAX_BATCH_BYTES, MAX_BATCH_REQUESTS } from './chunk.ts';
import { DynamoDbAccessDeniedError, DynamoDbValidationError } from './errors.ts';
import { keyOfMarshalled, type PlannedWrite } from './plan.ts';
import { type BackoffOptions, classify, type ErrorKind, retrying } from './retry.ts';
import type { Deadline, FinalOutcome, WriteStats } from './types.ts';

const GUARD_CONDITION = 'attribute_not_exists(#v) OR #v < :v';

/** Everything one `writeAll` shares while sending. */
export interface SendContext {
  readonly client: DynamoDBClient;
  /** Bounds the DynamoDB requests in flight across every `writeAll` of one batcher. */
  readonly limit: LimitFunction;
  readonly deadline: Deadline;
  readonly backoff: BackoffOptions;
  /** Where `stats.consumedWriteCapacity` comes from (see `WriteBatcherOptions.consumedCapacity`). */
  readonly capacity: ConsumedCapacityMode;
  /** The attribute a version-guarded write's condition compares. */
  readonly versionAttribute: string;
  readonly stats: WriteStats;
  /** Final outcome per input index, filled in as writes finish. */
  readonly outcomes: FinalOutcome[];
}

/** Writes waiting to be sent again, and how often each was sent already. */
interface Leftover {
  readonly write: PlannedWrite;
  /** Requests this write was in so far. */
  readonly attempts: number;
  /** Why it was not written: unprocessed, throttled or a transient error. */
  readonly kind: ErrorKind;
}

/**
 * Sends one round of chunks with BatchWriteItem (an item appears at most once per round, so any of
 * its writes may share a request). What comes back unprocessed, throttled or failed transiently from
 * any request in flight is **repacked into full requests** (25 writes, 16 MB) and sent again with
 * exponential backoff and full jitter, while the longest wait still ends before the deadline; a
 * partial request goes out only once no request in flight could fill it. A ValidationException is
 * bisected down to the single item DynamoDB refuses, so one bad item does not sink the 24 beside it;
 * an AccessDeniedException is split by table, and the writes to the refused table are rejected.
 */
export async function sendRound(
  chunks: readonly (readonly PlannedWrite[])[],
  ctx: SendContext,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let leftovers: Leftover[] = [];
  const launch = (writes: readonly PlannedWrite[], attempts: number, delayMs = 0) => {
    const request = sendRequest(writes, attempts, delayMs, ctx).then((left) => {
      inFlight.delete(request);
      if (left.length > 0) leftovers = leftovers.concat(left);
    });
    inFlight.add(request);
  };
  for (const chunk of chunks) launch(chunk, 0);
  while (inFlight.size > 0 || leftovers.length > 0) {
    // Full requests go at once; the remainder waits until nothing in flight could add to it.
    const packs = packLeftovers(leftovers, inFlight.size === 0);
    leftovers = packs.waiting;
    for (const pack of packs.ready) {
      const attempts = Math.max(...pack.map((left) => left.attempts));
      const longestWait = Math.min(ctx.backoff.maxDelayMs, ctx.backoff.baseDelayMs * 2 ** (attempts - 1));
      if (Date.now() + longestWait >= ctx.deadline.at) {
        for (const left of pack) giveUp(ctx, [left.write], left.kind);
        continue;
      }
      ctx.stats.unprocessedRetried += pack.filter((left) => left.kind === 'unprocessed').length;
      launch(
        pack.map((left) => left.write),
        attempts,
        Math.random() * longestWait,
      );
    }
    if (inFlight.size > 0) await Promise.race(inFlight);
  }
}

/**
 * Sends `writes` as one BatchWriteItem after `delayMs` and settles what it can; returns the writes to
 * send again. Bisected and split requests are sent (and awaited) here.
 */
async function sendRequest(
  writes: readonly PlannedWrite[],
  attempts: number,
  delayMs: number,
  ctx: SendContext,
): Promise<Leftover[]> {
  if (delayMs > 0) await sleep(delayMs);
  const ask = askCapacity(writes, ctx.capacity);
  try {
    const output = await ctx.limit(() => send(ctx, new BatchWriteItemCommand(batchInput(writes, ask))));
    ctx.stats.batchRequests++;
    addCapacity(ctx.stats, output.ConsumedCapacity);
    const unprocessed = unprocessedOf(writes, output);
    const left: Leftover[] = [];
    for (const write of writes) {
      if (unprocessed.has(write)) left.push({ write, attempts: attempts + 1, kind: 'unprocessed' });
      else {
        setOutcome(ctx, write, WRITTEN);
        if (ask === 'NONE' && ctx.capacity === 'computed')
          ctx.stats.consumedWriteCapacity += writeUnits(write);
      }
    }
    return left;
  } catch (error) {
    const kind = classify(error);
    if (kind === 'throttle' || kind === 'transient') {
      return writes.map((write) => ({ write, attempts: attempts + 1, kind }));
    }
    if (kind === 'validation') {
      if (writes.length > 1) {
        const half = Math.ceil(writes.length / 2);
        await Promise.all([sendRound([writes.slice(0, half)], ctx), sendRound([writes.slice(half)], ctx)]);
        return [];
      }
      const rejected = new DynamoDbValidationError((error as Error).message, { cause: error });
      for (const write of writes) setOutcome(ctx, write, { status: 'rejected', error: rejected });
      return [];
    }
    if (kind === 'access-denied') {
      // IAM refuses a whole BatchWriteItem when one of its tables is not allowed: send each table's
      // writes on their own, so only the writes to the refused table are rejected.
      const byTable = Map.groupBy(writes, (write) => write.target.tableName);
      if (byTable.size > 1) {
        await Promise.all([...byTable.values()].map((group) => sendRound([group], ctx)));
        return [];
      }
      rejectDenied(ctx, writes, error);
      return [];
    }
    giveUp(ctx, writes, kind, error);
    return [];
  }
}

/** Leftovers cut into full BatchWriteItem requests; with `all`, the last partial one too. */
function packLeftovers(
  leftovers: readonly Leftover[],
  all: boolean,
): { ready: Leftover[][]; waiting: Leftover[] } {
  const ready: Leftover[][] = [];
  let pack: Leftover[] = [];
  let bytes = 0;
  for (const left of leftovers) {
    if (
      pack.length === MAX_BATCH_REQUESTS ||
      (pack.length > 0 && bytes + left.write.wireBytes > MAX_BATCH_BYTES)
    ) {
      ready.push(pack);
      pack = [];
      bytes = 0;
    }
    pack.push(left);
    bytes += left.write.wireBytes;
  }
  if (pack.length === MAX_BATCH_REQUESTS || (all && pack.length > 0)) {
    ready.push(pack);
    pack = [];
  }
  return { ready, waiting: pack };
}

/**
 * Sends one version-guarded write as a conditional PutItem (tombstones included): the stored item is
 * replaced only by a strictly higher version; a failed condition means stale, which is success.
 */
export async function sendGuarded(write: PlannedWrite, ctx: SendContext): Promise<void> {
  const ask = askCapacity([write], ctx.capacity);
  const computed = ask === 'NONE' && ctx.capacity === 'computed';
  const command = new PutItemCommand({
    TableName: write.target.tableName,
    Item: write.attributes,
    ConditionExpression: GUARD_CONDITION,
    ExpressionAttributeNames: { '#v': ctx.versionAttribute },
    ExpressionAttributeValues: { ':v': { N: String(write.version) } },
    ReturnConsumedCapacity: ask,
  });
  try {
    await retrying(
      async () => {
        const output = await ctx.limit(() => send(ctx, command));
        ctx.stats.conditionalRequests++;
        addCapacity(ctx.stats, output.ConsumedCapacity ? [output.ConsumedCapacity] : undefined);
      },
      ctx.deadline,
      ctx.backoff,
      () => {},
    );
    setOutcome(ctx, write, WRITTEN);
    if (computed) ctx.stats.consumedWriteCapacity += writeUnits(write);
  } catch (error) {
    const kind = classify(error);
    if (kind === 'conditional') {
      ctx.stats.conditionalRequests++;
      // A failed condition consumes write capacity too.
      if (computed) ctx.stats.consumedWriteCapacity += writeUnits(write);
      setOutcome(ctx, write, STALE);
    } else if (kind === 'validation') {
      setOutcome(ctx, write, {
        status: 'rejected',
        error: new DynamoDbValidationError((error as Error).message, { cause: error }),
      });
    } else if (kind === 'access-denied') {
      rejectDenied(ctx, [write], error);
    } else {
      giveUp(ctx, [write], kind, error);
    }
  }
}

const WRITTEN: FinalOutcome = Object.freeze({ status: 'written' });
const STALE: FinalOutcome = Object.freeze({ status: 'stale' });

function send(ctx: SendContext, command: BatchWriteItemCommand): Promise<BatchWriteItemCommandOutput>;
function send(ctx: SendContext, command: PutItemCommand): Promise<{ ConsumedCapacity?: ConsumedCapacity }>;
async function send(ctx: SendContext, command: BatchWriteItemCommand | PutItemCommand): Promise<unknown> {
  const remaining = ctx.deadline.at - Date.now();
  if (remaining <= 0)
    throw Object.assign(new Error('deadline reached before sending'), { name: 'AbortError' });
  try {
    const options = { abortSignal: AbortSignal.timeout(remaining) };
    return command instanceof BatchWriteItemCommand
      ? await ctx.client.send(command, options)
      : await ctx.client.send(command, options);
  } catch (error) {
    const kind = classify(error);
    if (kind === 'throttle') ctx.stats.throttles++;
    else if (kind === 'transient') ctx.stats.transientErrors++;
    throw error;
  }
}

function giveUp(ctx: SendContext, writes: readonly PlannedWrite[], kind: ErrorKind, error?: unknown): void {
  const detail =
    kind === 'other' ? `${(error as Error).name}: ${(error as Error).message}` : (kindDetail[kind] ?? kind);
  const outcome: FinalOutcome = {
    status: 'retryable',
    reason: kind === 'other' ? 'error' : 'deadline',
    detail,
  };
  for (const write of writes) setOutcome(ctx, write, outcome);
}

/** Every write of `writes` goes to one table: they are rejected with ACCESS_DENIED. */
function rejectDenied(ctx: SendContext, writes: readonly PlannedWrite[], error: unknown): void {
  const tableName = writes[0]?.target.tableName ?? '(unknown)';
  const rejected = new DynamoDbAccessDeniedError(tableName, (error as Error).message, { cause: error });
  for (const write of writes) setOutcome(ctx, write, { status: 'rejected', error: rejected });
}

const kindDetail: Record<string, string> = {
  throttle: 'still throttled at the deadline',
  transient: 'DynamoDB kept failing (5xx or network) until the deadline',
  unprocessed: 'still unprocessed at the deadline',
  deadline: 'the deadline came before the write finished',
  validation: 'rejected',
  conditional: 'stale',
};

function setOutcome(ctx: SendContext, write: PlannedWrite, outcome: FinalOutcome): void {
  ctx.outcomes[write.index] = outcome;
}

/** Where the consumed write capacity comes from: computed from item sizes, DynamoDB's, or not counted. */
export type ConsumedCapacityMode = 'computed' | 'dynamodb' | 'off';

/**
 * What a request asks DynamoDB for: nothing when the capacity is off or can be computed; `INDEXES`
 * when a table of the request has secondary indexes (their cost is DynamoDB's to tell).
 */
function askCapacity(
  writes: readonly PlannedWrite[],
  mode: ConsumedCapacityMode,
): 'TOTAL' | 'INDEXES' | 'NONE' {
  if (mode === 'dynamodb') return 'TOTAL';
  if (mode === 'off') return 'NONE';
  return writes.some((write) => write.target.indexes) ? 'INDEXES' : 'NONE';
}

/**
 * Write units of one put or delete as DynamoDB counts them for a new item: 1 per started KB of the
 * item written, at least 1. Replacing a larger stored item or deleting one over 1 KB costs the stored
 * item's size, which only DynamoDB knows: then this is a lower bound.
 */
export function writeUnits(write: PlannedWrite): number {
  return Math.max(1, Math.ceil(write.itemBytes / 1024));
}

function batchInput(writes: readonly PlannedWrite[], returnConsumedCapacity: 'TOTAL' | 'INDEXES' | 'NONE') {
  const requestItems: Record<string, DynamoWriteRequest[]> = {};
  for (const write of writes) {
    const entry: DynamoWriteRequest =
      write.kind === 'delete'
        ? { DeleteRequest: { Key: write.attributes } }
        : { PutRequest: { Item: write.attributes } };
    const list = requestItems[write.target.tableName];
    if (list) list.push(entry);
    else requestItems[write.target.tableName] = [entry];
  }
  return { RequestItems: requestItems, ReturnConsumedCapacity: returnConsumedCapacity };
}

function unprocessedOf(
  pending: readonly PlannedWrite[],
  output: BatchWriteItemCommandOutput,
): Set<PlannedWrite> {
  const unprocessed = new Set<PlannedWrite>();
  const items = output.UnprocessedItems;
  if (!items || Object.keys(items).length === 0) return unprocessed;
  const byKey = new Map(pending.map((write) => [write.itemKey, write]));
  const target = new Map(pending.map((write) => [write.target.tableName, write.target]));
  let returned = 0;
  for (const [tableName, requests] of Object.entries(items)) {
    const table = target.get(tableName);
    for (const request of requests) {
      returned++;
      const attributes = request.PutRequest?.Item ?? request.DeleteRequest?.Key;
      const write = table && attributes ? byKey.get(keyOfMarshalled(table, attributes)) : undefined;
      if (write) unprocessed.add(write);
    }
  }
  // An entry we cannot match must not be taken for written: send the whole chunk again (idempotent).
  return unprocessed.size === returned ? unprocessed : new Set(pending);
}

function addCapacity(stats: WriteStats, consumed: readonly ConsumedCapacity[] | undefined): void {
  if (!consumed) return;
  for (const c of consumed) stats.consumedWriteCapacity += c.CapacityUnits ?? c.WriteCapacityUnits ?? 0;
}
