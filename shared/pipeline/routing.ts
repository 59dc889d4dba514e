import { z } from 'zod';
import {
  DEFAULT_TABLE,
  InvalidKeyError,
  type Message,
  OpNotAllowedError,
  ReservedAttributeError,
  UnknownTableError,
  VersionNotAllowedError,
} from '../contract/index.ts';
import type { TableTarget, WriteRequest } from '../write-batcher/index.ts';
import { InvalidShardingError } from './errors.ts';
import { writePathSettings } from './settings.ts';
import {
  type ShardSpec,
  ShardsSchema,
  shardingProblem,
  shardKey,
  shardOfSortKey,
  shardOwner,
} from './sharding.ts';

const RouteSchema = z
  .strictObject({
    tableName: z.string().min(3).max(255),
    partitionKey: z.string().min(1),
    sortKey: z.string().min(1).optional(),
    /** The table has secondary indexes (the batcher then asks DynamoDB for the capacity writes consume). */
    indexes: z.boolean().optional(),
    /** DynamoDB type of the key attributes: S (string, the default) or N (number). */
    keyType: z.enum(['S', 'N']).default('S'),
    ops: z
      .array(z.enum(['put', 'delete']))
      .min(1)
      .default(['put', 'delete']),
    /**
     * Hot partition keys spread over shards: partition key value → `{ count, by }` (see
     * `shared/pipeline/sharding.ts`). Writes to `value` land on `value#0` … `value#<count-1>`; read
     * them back with `querySharded`.
     */
    shards: ShardsSchema.optional(),
  })
  .superRefine((route, ctx) => {
    const problem = shardingProblem(route);
    if (problem) ctx.addIssue({ code: 'custom', path: [...problem.path], message: problem.message });
  });

/** Logical table name → physical table, key schema and allowed ops. */
export const RoutesSchema = z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), RouteSchema);
export type RoutesConfig = z.infer<typeof RoutesSchema>;
export type Route = z.infer<typeof RouteSchema>;

const { versionAttribute, deletedAttribute, ttlAttribute } = writePathSettings.table;
/** Attribute names the pipeline writes itself; producers may not set them. */
export const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set([
  versionAttribute,
  deletedAttribute,
  ttlAttribute,
]);

interface CompiledRoute {
  readonly logical: string;
  readonly target: TableTarget;
  readonly ops: ReadonlySet<string>;
  readonly keyType: 'S' | 'N';
  readonly shards: Readonly<Record<string, ShardSpec>>;
  readonly sharded: boolean;
}

export interface RouterOptions {
  /**
   * Where each round-robin key's turn starts (a fraction in [0, 1) of its shard count), so that
   * many function instances do not all begin on shard 0. @default Math.random
   */
  readonly random?: () => number;
}

/**
 * Routes the messages of one batch. A round-robin shard is chosen once per logical item per
 * session, so writes to one item in a batch land on one physical key and coalesce there.
 */
export interface RoutingSession {
  toWriteRequest(message: Message, scope?: string): WriteRequest;
}

/**
 * Turns contract messages into WriteBatcher requests. Producers name *logical* tables; only routed
 * tables can be written, so a producer can never reach a table the pipeline does not own. A route's
 * sharded partition keys are rewritten to their physical shard (`value#n`) here.
 */
export class Router {
  private readonly routes: ReadonlyMap<string, CompiledRoute>;
  /** Round-robin keys: `${logical}\0${value}` → the next turn. */
  private readonly turns = new Map<string, number>();
  private readonly random: () => number;

  /** @throws InvalidShardingError when a route's `shards` break the rules of `shardingProblem`. */
  constructor(config: RoutesConfig, options: RouterOptions = {}) {
    this.random = options.random ?? Math.random;
    this.routes = new Map(
      Object.entries(config).map(([logical, route]) => {
        const problem = shardingProblem(route);
        if (problem) throw new InvalidShardingError(logical, problem.path.join('.'), problem.message);
        const shards = route.shards ?? {};
        const compiled: CompiledRoute = {
          logical,
          target: {
            tableName: route.tableName,
            partitionKey: route.partitionKey,
            sortKey: route.sortKey,
            ...(route.indexes ? { indexes: true } : {}),
          },
          ops: new Set(route.ops),
          keyType: route.keyType,
          shards,
          sharded: Object.keys(shards).length > 0,
        };
        return [logical, compiled];
      }),
    );
  }

  /** Logical table names this router accepts. */
  get tables(): string[] {
    return [...this.routes.keys()];
  }

  /** Resolves a message to a write request; throws a typed `PipelineError` for permanent problems. */
  toWriteRequest(message: Message, scope?: string): WriteRequest {
    return this.route(message, scope, undefined);
  }

  /** A session for one batch (see `RoutingSession`). */
  session(): RoutingSession {
    const chosen = new Map<string, number>();
    return { toWriteRequest: (message, scope) => this.route(message, scope, chosen) };
  }

  private route(
    message: Message,
    scope: string | undefined,
    chosen: Map<string, number> | undefined,
  ): WriteRequest {
    const logical = message.table ?? DEFAULT_TABLE;
    const route = this.routes.get(logical);
    if (!route) throw new UnknownTableError(logical, this.tables);
    if (!route.ops.has(message.op)) throw new OpNotAllowedError(message.op, logical);
    const { target, keyType } = route;
    if (message.op === 'put') {
      checkKeyAttribute(message.item, target.partitionKey, 'item', keyType);
      if (target.sortKey) checkKeyAttribute(message.item, target.sortKey, 'item', keyType);
      for (const name in message.item) {
        if (RESERVED_ATTRIBUTES.has(name)) throw new ReservedAttributeError(name);
      }
      const item = route.sharded
        ? this.shardAttributes(route, message.item, 'item', message, chosen)
        : message.item;
      return { op: 'put', target, item, version: message.version, scope };
    }
    checkKeyAttribute(message.key, target.partitionKey, 'key', keyType);
    if (target.sortKey) checkKeyAttribute(message.key, target.sortKey, 'key', keyType);
    const expected = target.sortKey ? 2 : 1;
    if (Object.keys(message.key).length !== expected) {
      const extra = Object.keys(message.key).find((k) => k !== target.partitionKey && k !== target.sortKey);
      throw new InvalidKeyError(`key.${extra}`, 'is not a key attribute of the table');
    }
    const key = route.sharded
      ? this.shardAttributes(route, message.key, 'key', message, chosen)
      : message.key;
    return { op: 'delete', target, key, version: message.version, scope };
  }

  /** The attributes with a sharded partition key value replaced by its shard's physical value. */
  private shardAttributes<T extends Readonly<Record<string, unknown>>>(
    route: CompiledRoute,
    attributes: T,
    where: string,
    message: Message,
    chosen: Map<string, number> | undefined,
  ): T {
    const { partitionKey, sortKey } = route.target;
    const value = attributes[partitionKey] as string;
    const spec = Object.hasOwn(route.shards, value) ? route.shards[value] : undefined;
    if (spec === undefined) {
      const owner = shardOwner(value, route.shards);
      if (owner !== undefined) {
        throw new InvalidKeyError(
          `${where}.${partitionKey}`,
          `"${value}" is the physical key of shard ${owner.shard} of the sharded partition key "${owner.key}"; write "${owner.key}" instead`,
        );
      }
      return attributes;
    }
    const sortValue = attributes[sortKey!] as string;
    let shard: number;
    if (spec.by === 'sortKeyHash') {
      shard = shardOfSortKey(sortValue, spec.count);
    } else {
      if (message.version !== undefined) throw new VersionNotAllowedError(route.logical, value);
      const item = `${value}\u0000${sortValue}`;
      shard = chosen?.get(item) ?? this.nextTurn(route.logical, value, spec.count);
      chosen?.set(item, shard);
    }
    return { ...attributes, [partitionKey]: shardKey(value, shard) };
  }

  private nextTurn(logical: string, value: string, count: number): number {
    const id = `${logical}\u0000${value}`;
    const turn = this.turns.get(id) ?? Math.floor(this.random() * count);
    this.turns.set(id, (turn + 1) % count);
    return turn % count;
  }
}

function checkKeyAttribute(
  attributes: Readonly<Record<string, unknown>>,
  name: string,
  where: string,
  keyType: 'S' | 'N',
): void {
  const value = attributes[name];
  const path = `${where}.${name}`;
  if (value === undefined) throw new InvalidKeyError(path, 'key attribute is missing');
  if (keyType === 'S') {
    if (typeof value !== 'string') throw new InvalidKeyError(path, `must be a string, got ${typeOf(value)}`);
    if (value.length === 0) throw new InvalidKeyError(path, 'must not be empty');
  } else if (typeof value !== 'number') {
    throw new InvalidKeyError(path, `must be a number, got ${typeOf(value)}`);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}
