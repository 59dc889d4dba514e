/**
 * Reading a sharded partition back: one Query per shard (bounded in parallel, every page), merged in
 * sort key order, with the shard suffix stripped, so the caller sees the logical items.
 */

import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import pLimit from 'p-limit';
import { z } from 'zod';
import { classifyAwsError, isRetryableAwsErrorKind } from '../core/aws-errors.ts';
import {
  InvalidOptionError,
  integerOption,
  objectOption,
  parseOptions,
  textOption,
} from '../core/options.ts';
import { ShardedQueryError } from './errors.ts';
import type { Route } from './routing.ts';
import { writePathSettings } from './settings.ts';
import { shardKey } from './sharding.ts';

type KeyValue = string | number;

/** A condition on the sort key, as DynamoDB's KeyConditionExpression allows. */
export type SortKeyCondition =
  | { readonly op: '=' | '<' | '<=' | '>' | '>=' | 'begins_with'; readonly value: KeyValue }
  | { readonly op: 'between'; readonly low: KeyValue; readonly high: KeyValue };

export interface ShardedQueryOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  /** The route the items were written through: its table, key names, key type and shards. */
  readonly route: Pick<Route, 'tableName' | 'partitionKey' | 'sortKey' | 'keyType' | 'shards'>;
  /** The logical partition key value (sharded or not: an unsharded one is a single query). */
  readonly partitionKey: string;
  /** @default every item of the partition */
  readonly sortKeyCondition?: SortKeyCondition;
  /** Highest sort key first. @default false */
  readonly descending?: boolean;
  /** Most items returned (after merging; each shard is read only as far as it could contribute). @default all */
  readonly limit?: number;
  /** @default false */
  readonly consistentRead?: boolean;
  /** Shards queried at once. @default 8 */
  readonly concurrency?: number;
  /** Return tombstones (`deletedAttribute: true`) instead of treating them as absent. @default false */
  readonly includeTombstones?: boolean;
  /** @default writePathSettings.table.versionAttribute (`_version`) */
  readonly versionAttribute?: string;
  /** @default writePathSettings.table.deletedAttribute (`_deleted`) */
  readonly deletedAttribute?: string;
}

const keyValue = z.union([z.string(), z.number()], { error: 'a string or a number' });

export const ShardedQueryOptionsSchema = z.object({
  client: objectOption<Pick<DynamoDBClient, 'send'>>('a DynamoDBClient'),
  route: objectOption<ShardedQueryOptions['route']>('a route (tableName, partitionKey, sortKey, shards)'),
  partitionKey: textOption('a non-empty partition key value'),
  sortKeyCondition: z
    .union([
      z.object({ op: z.enum(['=', '<', '<=', '>', '>=', 'begins_with']), value: keyValue }),
      z.object({ op: z.literal('between'), low: keyValue, high: keyValue }),
    ])
    .optional(),
  descending: z.boolean().default(false),
  limit: integerOption(1).optional(),
  consistentRead: z.boolean().default(false),
  concurrency: integerOption(1, 100).default(8),
  includeTombstones: z.boolean().default(false),
  versionAttribute: textOption('a non-empty attribute name').default(
    writePathSettings.table.versionAttribute,
  ),
  deletedAttribute: textOption('a non-empty attribute name').default(
    writePathSettings.table.deletedAttribute,
  ),
}) satisfies z.ZodType<unknown, ShardedQueryOptions>;

type Resolved = z.output<typeof ShardedQueryOptionsSchema>;
type Item = Record<string, unknown>;

/**
 * The logical items of one partition key, whether the route shards it or not: every shard queried
 * (at most `concurrency` at once, every page), merged in sort key order (DynamoDB's: strings by
 * UTF-8 bytes, numbers by value), the partition key set back to the logical value. An item found on
 * two shards (a round-robin redelivery, or a shard count changed under existing items) comes back
 * once: the copy with the highest version, else the one on the lowest shard. Tombstones are left
 * out unless asked for.
 *
 * @example
 * const events = await querySharded({ client, route: routes.events, partitionKey: 'tenant-1', limit: 100 });
 * @throws InvalidOptionError for a bad option; ShardedQueryError when a query fails.
 */
export async function querySharded(options: ShardedQueryOptions): Promise<Item[]> {
  const o = parseOptions('querySharded', ShardedQueryOptionsSchema, options);
  const { route } = o;
  const spec = Object.hasOwn(route.shards ?? {}, o.partitionKey) ? route.shards?.[o.partitionKey] : undefined;
  if (spec !== undefined && route.sortKey === undefined) {
    throw new InvalidOptionError(
      'querySharded',
      'route.sortKey',
      undefined,
      'a sort key: a sharded route has one',
    );
  }
  const count = spec?.count ?? 0;
  const physical =
    count === 0 ? [o.partitionKey] : Array.from({ length: count }, (_, n) => shardKey(o.partitionKey, n));
  const limit = pLimit(o.concurrency);
  const perShard = await Promise.all(physical.map((value) => limit(() => queryAll(o, value))));
  const merged = mergeShards(perShard, o);
  return o.limit === undefined ? merged : merged.slice(0, o.limit);
}

async function queryAll(o: Resolved, physicalValue: string): Promise<Item[]> {
  const { route } = o;
  const names: Record<string, string> = { '#pk': route.partitionKey };
  const values: Record<string, AttributeValue> = { ':pk': { S: physicalValue } };
  let expression = '#pk = :pk';
  const condition = o.sortKeyCondition;
  if (condition !== undefined && route.sortKey !== undefined) {
    names['#sk'] = route.sortKey;
    const attr = (v: KeyValue): AttributeValue =>
      route.keyType === 'N' ? { N: String(v) } : { S: String(v) };
    if (condition.op === 'between') {
      values[':lo'] = attr(condition.low);
      values[':hi'] = attr(condition.high);
      expression += ' AND #sk BETWEEN :lo AND :hi';
    } else {
      values[':sk'] = attr(condition.value);
      expression +=
        condition.op === 'begins_with' ? ' AND begins_with(#sk, :sk)' : ` AND #sk ${condition.op} :sk`;
    }
  }
  const items: Item[] = [];
  let live = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    let page: QueryCommandOutput;
    try {
      page = await o.client.send(
        new QueryCommand({
          TableName: route.tableName,
          KeyConditionExpression: expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: !o.descending,
          ConsistentRead: o.consistentRead,
          ExclusiveStartKey: start,
          ...(o.limit === undefined ? {} : { Limit: o.limit }),
        }),
      );
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      throw new ShardedQueryError(
        route.tableName,
        physicalValue,
        isRetryableAwsErrorKind(classifyAwsError(error)),
        { cause },
      );
    }
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      items.push(item);
      if (item[o.deletedAttribute] !== true) live++;
    }
    start = page.LastEvaluatedKey;
    // This shard cannot put more than `limit` items into the first `limit` of the merge. Tombstones
    // do not count: they may be dropped, or hide a copy elsewhere.
  } while (start !== undefined && (o.limit === undefined || live < o.limit));
  return items;
}

/** Merges per-shard lists (each in sort key order) into one, one copy per item, partition key made logical. */
function mergeShards(perShard: readonly Item[][], o: Resolved): Item[] {
  const { route } = o;
  const sortKey = route.sortKey;
  const best = new Map<string, { item: Item; shard: number }>();
  const unsorted: { item: Item; shard: number }[] = [];
  perShard.forEach((items, shard) => {
    for (const item of items) {
      if (sortKey === undefined) {
        unsorted.push({ item, shard });
        continue;
      }
      const id = `${typeof item[sortKey]}\u0000${String(item[sortKey])}`;
      const current = best.get(id);
      if (current === undefined || versionOf(item, o) > versionOf(current.item, o))
        best.set(id, { item, shard });
    }
  });
  const chosen = sortKey === undefined ? unsorted : [...best.values()];
  if (sortKey !== undefined) {
    const sign = o.descending ? -1 : 1;
    chosen.sort((a, b) => sign * compareKeys(a.item[sortKey] as KeyValue, b.item[sortKey] as KeyValue));
  }
  const out: Item[] = [];
  for (const { item } of chosen) {
    if (!o.includeTombstones && item[o.deletedAttribute] === true) continue;
    out.push({ ...item, [route.partitionKey]: o.partitionKey });
  }
  return out;
}

function versionOf(item: Item, o: Resolved): number {
  const v = item[o.versionAttribute];
  return typeof v === 'number' ? v : -1;
}

/** DynamoDB's order: numbers by value, strings by their UTF-8 bytes. */
function compareKeys(a: KeyValue, b: KeyValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(Buffer.from(String(a), 'utf8'), Buffer.from(String(b), 'utf8'));
}
