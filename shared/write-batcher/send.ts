import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type ConsumedCapacity,
  type DynamoDBClient,
  type WriteRequest as DynamoWriteRequest,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { LimitFunction } from 'p-limit';
import { DynamoDbAccessDeniedError, DynamoDbValidationError } from './errors.ts';
import { keyOfMarshalled, type PlannedWrite } from './plan.ts';
import { type BackoffOptions, classify, retrying, UnprocessedItemsLeft } from './retry.ts';
import type { Deadline, FinalOutcome, WriteStats } from './types.ts';

const GUARD_CONDITION = 'attribute_not_exists(#v) OR #v < :v';

/** Everything one `writeAll` shares while sending. */
export interface SendContext {
  readonly client: DynamoDBClient;
  /** Bounds the DynamoDB requests in flight across every `writeAll` of one batcher. */
  readonly limit: LimitFunction;
  readonly deadline: Deadline;
  readonly backoff: BackoffOptions;
  /** Ask DynamoDB for consumed capacity (`TOTAL`) or not (`NONE`). */
  readonly returnConsumedCapacity: 'TOTAL' | 'NONE';
  /** The attribute a version-guarded write's condition compares. */
  readonly versionAttribute: string;
  readonly stats: WriteStats;
  /** Final outcome per input index, filled in as writes finish. */
  readonly outcomes: FinalOutcome[];
}

/**
 * Sends one chunk with BatchWriteItem, retrying unprocessed items, throttling and transient errors
 * until they are written or the deadline comes. A ValidationException is bisected down to the
 * single item DynamoDB refuses, so one bad item does not sink the 24 beside it; an
 * AccessDeniedException is split by table, and the writes to the refused table are rejected.
 */
export async function sendBatch(chunk: readonly PlannedWrite[], ctx: SendContext): Promise<void> {
  let pending = chunk;
  try {
    await retrying(
      async () => {
        const output = await ctx.limit(() =>
          send(ctx, new BatchWriteItemCommand(batchInput(pending, ctx.returnConsumedCapacity))),
        );
        ctx.stats.batchRequests++;
        addCapacity(ctx.stats, output.ConsumedCapacity);
        const unprocessed = unprocessedOf(pending, output);
        for (const write of pending) {
          if (!unprocessed.has(write)) setOutcome(ctx, write, WRITTEN);
        }
        if (unprocessed.size > 0) {
          pending = [...unprocessed];
          ctx.stats.unprocessedRetried += pending.length;
          throw new UnprocessedItemsLeft(`${pending.length} items unprocessed`);
        }
      },
      ctx.deadline,
      ctx.backoff,
      () => {},
    );
  } catch (error) {
    const kind = classify(error);
    if (kind === 'unprocessed') ctx.stats.unprocessedRetried -= pending.length; // not re-sent after all
    if (kind === 'validation') {
      if (pending.length > 1) {
        const half = Math.ceil(pending.length / 2);
        await Promise.all([sendBatch(pending.slice(0, half), ctx), sendBatch(pending.slice(half), ctx)]);
        return;
      }
      const rejected = new DynamoDbValidationError((error as Error).message, { cause: error });
      for (const write of pending) setOutcome(ctx, write, { status: 'rejected', error: rejected });
      return;
    }
    if (kind === 'access-denied') {
      // IAM refuses a whole BatchWriteItem when one of its tables is not allowed: send each table's
      // writes on their own, so only the writes to the refused table are rejected.
      const byTable = Map.groupBy(pending, (write) => write.target.tableName);
      if (byTable.size > 1) {
        await Promise.all([...byTable.values()].map((writes) => sendBatch(writes, ctx)));
        return;
      }
      rejectDenied(ctx, pending, error);
      return;
    }
    giveUp(ctx, pending, error);
  }
}

/**
 * Sends one version-guarded write as a conditional PutItem (tombstones included): the stored item is
 * replaced only by a strictly higher version; a failed condition means stale, which is success.
 */
export async function sendGuarded(write: PlannedWrite, ctx: SendContext): Promise<void> {
  const command = new PutItemCommand({
    TableName: write.target.tableName,
    Item: write.attributes,
    ConditionExpression: GUARD_CONDITION,
    ExpressionAttributeNames: { '#v': ctx.versionAttribute },
    ExpressionAttributeValues: { ':v': { N: String(write.version) } },
    ReturnConsumedCapacity: ctx.returnConsumedCapacity,
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
  } catch (error) {
    const kind = classify(error);
    if (kind === 'conditional') {
      ctx.stats.conditionalRequests++;
      setOutcome(ctx, write, STALE);
    } else if (kind === 'validation') {
      setOutcome(ctx, write, {
        status: 'rejected',
        error: new DynamoDbValidationError((error as Error).message, { cause: error }),
      });
    } else if (kind === 'access-denied') {
      rejectDenied(ctx, [write], error);
    } else {
      giveUp(ctx, [write], error);
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

function giveUp(ctx: SendContext, writes: readonly PlannedWrite[], error: unknown): void {
  const kind = classify(error);
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

function batchInput(writes: readonly PlannedWrite[], returnConsumedCapacity: 'TOTAL' | 'NONE') {
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
