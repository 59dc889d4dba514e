import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type CancellationReason,
  type ConsumedCapacity,
  type DynamoDBClient,
  type WriteRequest as DynamoWriteRequest,
  PutItemCommand,
  type ThrottlingReason,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { LimitFunction } from 'p-limit';
import type { ConcurrencyWindows } from './adaptive-limit.ts';
import { MAX_BATCH_BYTES, MAX_BATCH_REQUESTS } from './chunk.ts';
import { DynamoDbAccessDeniedError, DynamoDbValidationError } from './errors.ts';
import { staleOutcome } from './outcome.ts';
import { keyOfMarshalled, type PlannedWrite } from './plan.ts';
import { type BackoffOptions, classify, type ErrorKind, retrying } from './retry.ts';
import type { Deadline, FinalOutcome, WriteStats } from './types.ts';

const GUARD_CONDITION = 'attribute_not_exists(#v) OR #v < :v';
/** Cancellation reasons of a transaction DynamoDB throttled. */
const THROTTLED_CODES = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded']);

/** Everything one `writeAll` shares while sending. */
export interface SendContext {
  readonly client: DynamoDBClient;
  /** Bounds the DynamoDB requests in flight across every `writeAll` of one batcher. */
  readonly limit: LimitFunction;
  /** Each table's share of them, sized by how DynamoDB answers (see `adaptiveConcurrency`). */
  readonly windows: ConcurrencyWindows;
  readonly deadline: Deadline;
  readonly backoff: BackoffOptions;
  /** Where `stats.consumedWriteCapacity` comes from (see `WriteBatcherOptions.consumedCapacity`). */
  readonly capacity: ConsumedCapacityMode;
  /** The attribute a version-guarded write's condition compares. */
  readonly versionAttribute: string;
  /** The attribute that marks a tombstone (read from the stored item a failed condition returns). */
  readonly deletedAttribute: string;
  readonly stats: WriteStats;
  /** Final outcome per input index, filled in as writes finish. */
  readonly outcomes: FinalOutcome[];
}

/** Writes waiting to be sent again, and how often each was sent already. */
interface Leftover {
  readonly write: PlannedWrite;
  /** Failed requests this write was in so far (a transaction cancelled by another write's condition does not count). */
  readonly attempts: number;
  /** Why it was not written: unprocessed, throttled, a transient error, or cancelled with its transaction. */
  readonly kind: ErrorKind | 'cancelled';
}

/** How one kind of request is sent: its limits, and one request's send that settles what it can. */
interface RequestKind {
  readonly maxWrites: number;
  readonly maxBytes: number;
  /** Sends one request; returns the writes to send again. */
  send(writes: readonly PlannedWrite[], attempts: number, ctx: SendContext): Promise<Leftover[]>;
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
export function sendRound(chunks: readonly (readonly PlannedWrite[])[], ctx: SendContext): Promise<void> {
  return runRound(chunks, ctx, BATCH_WRITE);
}

/**
 * Sends one round of version-guarded writes as `TransactWriteItems` of up to 100 conditional puts
 * (4 MB): every put replaces its item only when the stored version is lower or absent. A cancelled
 * transaction says per write why (`CancellationReasons`): a failed condition is `stale` (success;
 * its reason carries the stored item, whose version the outcome keeps), the writes that were not at
 * fault go again at once, conflicts and throttling with backoff — all repacked as `sendRound` does.
 * Same semantics as one conditional PutItem per write, at a fraction of the requests; DynamoDB
 * charges transactional writes twice the write units.
 */
export function sendGuardedRound(
  chunks: readonly (readonly PlannedWrite[])[],
  ctx: SendContext,
): Promise<void> {
  return runRound(chunks, ctx, TRANSACT_WRITE);
}

async function runRound(
  chunks: readonly (readonly PlannedWrite[])[],
  ctx: SendContext,
  kind: RequestKind,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let leftovers: Leftover[] = [];
  const launch = (writes: readonly PlannedWrite[], attempts: number, delayMs = 0) => {
    const request = (delayMs > 0 ? sleep(delayMs) : Promise.resolve())
      .then(() => kind.send(writes, attempts, ctx))
      .then((left) => {
        inFlight.delete(request);
        if (left.length > 0) leftovers = leftovers.concat(left);
      });
    inFlight.add(request);
  };
  for (const chunk of chunks) launch(chunk, 0);
  while (inFlight.size > 0 || leftovers.length > 0) {
    // Full requests go at once; the remainder waits until nothing in flight could add to it. Writes
    // cancelled only with their transaction go again at once, never beside one that made it fail.
    const idle = inFlight.size === 0;
    const innocent = packLeftovers(
      leftovers.filter((left) => left.kind === 'cancelled'),
      true,
      kind,
    );
    const failed = packLeftovers(
      leftovers.filter((left) => left.kind !== 'cancelled'),
      idle,
      kind,
    );
    leftovers = failed.waiting;
    for (const pack of [...innocent.ready, ...failed.ready]) {
      const attempts = Math.max(...pack.map((left) => left.attempts));
      const longestWait =
        attempts === 0 ? 0 : Math.min(ctx.backoff.maxDelayMs, ctx.backoff.baseDelayMs * 2 ** (attempts - 1));
      if (Date.now() + longestWait >= ctx.deadline.at) {
        for (const left of pack)
          giveUp(ctx, [left.write], left.kind === 'cancelled' ? 'deadline' : left.kind);
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
 * Sends `writes` as one BatchWriteItem and settles what it can; returns the writes to send again.
 * Bisected and split requests are sent (and awaited) here.
 */
async function sendBatchWrite(
  writes: readonly PlannedWrite[],
  attempts: number,
  ctx: SendContext,
): Promise<Leftover[]> {
  const ask = askCapacity(writes, ctx.capacity);
  try {
    const output = await send(ctx, new BatchWriteItemCommand(batchInput(writes, ask)));
    ctx.stats.batchRequests++;
    addCapacity(ctx.stats, output.ConsumedCapacity);
    const unprocessed = unprocessedOf(writes, output);
    // A request that wrote part of its items made progress: its leftovers wait the first backoff
    // step again rather than a longer one (the table's window, halved by the batcher's adaptive
    // concurrency, is what slows the load); only a request that wrote nothing backs off further.
    const next = unprocessed.size < writes.length ? Math.max(1, attempts) : attempts + 1;
    const left: Leftover[] = [];
    for (const write of writes) {
      if (unprocessed.has(write)) left.push({ write, attempts: next, kind: 'unprocessed' });
      else {
        setOutcome(ctx, write, WRITTEN);
        if (ask === 'NONE' && ctx.capacity === 'computed')
          ctx.stats.consumedWriteCapacity += writeUnits(write);
      }
    }
    return left;
  } catch (error) {
    return requestFailed(error, writes, attempts, ctx, BATCH_WRITE);
  }
}

/** Sends `writes` as one TransactWriteItems of conditional puts; returns the writes to send again. */
async function sendTransaction(
  writes: readonly PlannedWrite[],
  attempts: number,
  ctx: SendContext,
): Promise<Leftover[]> {
  const ask = askCapacity(writes, ctx.capacity);
  const computed = ask === 'NONE' && ctx.capacity === 'computed';
  const command = new TransactWriteItemsCommand({
    TransactItems: writes.map((write) => ({ Put: guardedPut(write, ctx.versionAttribute) })),
    ReturnConsumedCapacity: ask,
  });
  try {
    const output = await send(ctx, command);
    ctx.stats.conditionalRequests++;
    addCapacity(ctx.stats, output.ConsumedCapacity);
    for (const write of writes) {
      setOutcome(ctx, write, WRITTEN);
      if (computed) ctx.stats.consumedWriteCapacity += 2 * writeUnits(write);
    }
    return [];
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons === undefined || reasons.length !== writes.length) {
      return requestFailed(error, writes, attempts, ctx, TRANSACT_WRITE);
    }
    ctx.stats.conditionalRequests++;
    const left: Leftover[] = [];
    writes.forEach((write, i) => {
      const { Code: code = 'None', Message: message = code, Item: stored } = reasons[i]!;
      if (code === 'ConditionalCheckFailed') {
        // A failed condition consumes write capacity too.
        if (computed) ctx.stats.consumedWriteCapacity += writeUnits(write);
        setStale(ctx, write, stored);
      } else if (code === 'None') {
        left.push({ write, attempts, kind: 'cancelled' });
      } else if (code === 'ValidationError') {
        setOutcome(ctx, write, { status: 'rejected', error: new DynamoDbValidationError(message) });
      } else if (THROTTLED_CODES.has(code)) {
        ctx.stats.throttles++;
        left.push({ write, attempts: attempts + 1, kind: 'throttle' });
      } else {
        // TransactionConflict (another request writes the item now) and anything else: again, later.
        ctx.stats.transientErrors++;
        left.push({ write, attempts: attempts + 1, kind: 'transient' });
      }
    });
    return left;
  }
}

/**
 * A whole request failed: throttling and transient errors send its writes again; a validation error
 * is bisected down to the item DynamoDB refuses; an access denial is split by table (IAM refuses a
 * whole request when one of its tables is not allowed), so only writes to the refused table are
 * rejected; anything else gives up, retryable by the caller.
 */
async function requestFailed(
  error: unknown,
  writes: readonly PlannedWrite[],
  attempts: number,
  ctx: SendContext,
  kind: RequestKind,
): Promise<Leftover[]> {
  const errorKind = classify(error);
  if (errorKind === 'throttle' || errorKind === 'transient') {
    return writes.map((write) => ({ write, attempts: attempts + 1, kind: errorKind }));
  }
  if (errorKind === 'validation') {
    if (writes.length > 1) {
      const half = Math.ceil(writes.length / 2);
      await Promise.all([
        runRound([writes.slice(0, half)], ctx, kind),
        runRound([writes.slice(half)], ctx, kind),
      ]);
      return [];
    }
    const rejected = new DynamoDbValidationError((error as Error).message, { cause: error });
    for (const write of writes) setOutcome(ctx, write, { status: 'rejected', error: rejected });
    return [];
  }
  if (errorKind === 'access-denied') {
    const byTable = Map.groupBy(writes, (write) => write.target.tableName);
    if (byTable.size > 1) {
      await Promise.all([...byTable.values()].map((group) => runRound([group], ctx, kind)));
      return [];
    }
    rejectDenied(ctx, writes, error);
    return [];
  }
  giveUp(ctx, writes, errorKind, error);
  return [];
}

/** TransactWriteItems accepts at most 100 actions and 4 MB. */
export const MAX_TRANSACTION_WRITES = 100;
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

const BATCH_WRITE: RequestKind = {
  maxWrites: MAX_BATCH_REQUESTS,
  maxBytes: MAX_BATCH_BYTES,
  send: sendBatchWrite,
};
const TRANSACT_WRITE: RequestKind = {
  maxWrites: MAX_TRANSACTION_WRITES,
  maxBytes: MAX_TRANSACTION_BYTES,
  send: sendTransaction,
};

function guardedPut(write: PlannedWrite, versionAttribute: string) {
  return {
    TableName: write.target.tableName,
    Item: write.attributes,
    ConditionExpression: GUARD_CONDITION,
    ExpressionAttributeNames: { '#v': versionAttribute },
    ExpressionAttributeValues: { ':v': { N: String(write.version) } },
    // A failed condition returns the stored item, so a stale outcome can say which version won.
    // ALL_OLD cannot be projected: the whole item comes back, and only its version is kept.
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/** The per-action reasons of a cancelled transaction, or undefined for any other error. */
function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  return (error as Error & { CancellationReasons?: CancellationReason[] }).CancellationReasons;
}

/** Leftovers cut into full requests; with `all`, the last partial one too. */
function packLeftovers(
  leftovers: readonly Leftover[],
  all: boolean,
  kind: RequestKind,
): { ready: Leftover[][]; waiting: Leftover[] } {
  const ready: Leftover[][] = [];
  let pack: Leftover[] = [];
  let bytes = 0;
  for (const left of leftovers) {
    if (pack.length === kind.maxWrites || (pack.length > 0 && bytes + left.write.wireBytes > kind.maxBytes)) {
      ready.push(pack);
      pack = [];
      bytes = 0;
    }
    pack.push(left);
    bytes += left.write.wireBytes;
  }
  if (pack.length === kind.maxWrites || (all && pack.length > 0)) {
    ready.push(pack);
    pack = [];
  }
  return { ready, waiting: pack };
}

/**
 * Sends one version-guarded write as a conditional PutItem (tombstones included): the stored item is
 * replaced only by a strictly higher version; a failed condition means stale, which is success (the
 * `ConditionalCheckFailedException` carries the stored item, whose version the outcome keeps).
 */
export async function sendGuarded(write: PlannedWrite, ctx: SendContext): Promise<void> {
  const ask = askCapacity([write], ctx.capacity);
  const computed = ask === 'NONE' && ctx.capacity === 'computed';
  const command = new PutItemCommand({
    ...guardedPut(write, ctx.versionAttribute),
    ReturnConsumedCapacity: ask,
  });
  try {
    await retrying(
      async () => {
        const output = await send(ctx, command);
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
      setStale(ctx, write, (error as { Item?: Record<string, AttributeValue> }).Item);
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

function send(ctx: SendContext, command: BatchWriteItemCommand): Promise<BatchWriteItemCommandOutput>;
function send(ctx: SendContext, command: PutItemCommand): Promise<{ ConsumedCapacity?: ConsumedCapacity }>;
function send(ctx: SendContext, command: TransactWriteItemsCommand): Promise<TransactWriteItemsCommandOutput>;
async function send(
  ctx: SendContext,
  command: BatchWriteItemCommand | PutItemCommand | TransactWriteItemsCommand,
): Promise<unknown> {
  // A place in every table's window first, then one of the batcher's: a request waiting for its
  // table's window never holds a place another table's request could use.
  const permit = await ctx.windows.acquire(tablesOf(command));
  try {
    const output = await ctx.limit(() => sendNow(ctx, command));
    const unprocessed = (output as BatchWriteItemCommandOutput).UnprocessedItems ?? {};
    permit.answered(Object.keys(unprocessed).filter((table) => unprocessed[table]!.length > 0));
    return output;
  } catch (error) {
    const throttled = throttledTables(error, command);
    if (throttled !== undefined) permit.answered(throttled);
    else permit.failed();
    throw error;
  }
}

async function sendNow(
  ctx: SendContext,
  command: BatchWriteItemCommand | PutItemCommand | TransactWriteItemsCommand,
): Promise<unknown> {
  const remaining = ctx.deadline.at - Date.now();
  if (remaining <= 0)
    throw Object.assign(new Error('deadline reached before sending'), { name: 'AbortError' });
  try {
    const options = { abortSignal: AbortSignal.timeout(remaining) };
    if (command instanceof BatchWriteItemCommand) return await ctx.client.send(command, options);
    if (command instanceof TransactWriteItemsCommand) return await ctx.client.send(command, options);
    return await ctx.client.send(command, options);
  } catch (error) {
    const kind = classify(error);
    if (kind === 'throttle') ctx.stats.throttles++;
    else if (kind === 'transient') ctx.stats.transientErrors++;
    throw error;
  }
}

function tablesOf(command: BatchWriteItemCommand | PutItemCommand | TransactWriteItemsCommand): string[] {
  if (command instanceof BatchWriteItemCommand) return Object.keys(command.input.RequestItems ?? {});
  if (command instanceof TransactWriteItemsCommand) {
    return (command.input.TransactItems ?? []).map((action) => action.Put?.TableName ?? '');
  }
  return [command.input.TableName ?? ''];
}

/**
 * What an error says about capacity: the tables that throttled the request — those its
 * `ThrottlingReasons` or throttled cancellation reasons name, else all of them — none for another
 * answer from DynamoDB (a failed condition, a cancelled transaction), undefined when it says nothing.
 */
function throttledTables(
  error: unknown,
  command: BatchWriteItemCommand | PutItemCommand | TransactWriteItemsCommand,
): string[] | undefined {
  const tables = tablesOf(command);
  const kind = classify(error);
  if (kind === 'throttle') {
    const { ThrottlingReasons, throttlingReasons } = error as {
      ThrottlingReasons?: ThrottlingReason[];
      throttlingReasons?: ThrottlingReason[];
    };
    const named = (ThrottlingReasons ?? throttlingReasons ?? []).map((reason) =>
      tableOfArn(reason.resource ?? ''),
    );
    const known = tables.filter((table) => named.includes(table));
    return known.length > 0 ? known : tables;
  }
  if (kind === 'conditional') return [];
  const reasons = cancellationReasons(error);
  if (reasons === undefined) return undefined;
  return tables.filter((_, i) => THROTTLED_CODES.has(reasons[i]?.Code ?? ''));
}

/** `arn:aws:dynamodb:<region>:<account>:table/<name>[/index/<index>]` → `<name>`. */
function tableOfArn(arn: string): string {
  return arn.split(':table/')[1]?.split('/')[0] ?? '';
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

/** A failed version guard: `stale`, with the version of the stored item that won (none of its data). */
function setStale(
  ctx: SendContext,
  write: PlannedWrite,
  stored: Record<string, AttributeValue> | undefined,
): void {
  const outcome = staleOutcome(write.version, stored, ctx);
  if (outcome.storedVersion !== undefined && outcome.incomingVersion !== undefined) {
    const lag = outcome.storedVersion - outcome.incomingVersion;
    ctx.stats.staleVersionLag = Math.max(ctx.stats.staleVersionLag, lag);
  }
  setOutcome(ctx, write, outcome);
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
