import { z } from 'zod';
import {
  DEFAULT_TABLE,
  InvalidKeyError,
  type Message,
  OpNotAllowedError,
  ReservedAttributeError,
  UnknownTableError,
} from '../contract/index.ts';
import type { TableTarget, WriteRequest } from '../write-batcher/index.ts';
import { writePathSettings } from './settings.ts';

const RouteSchema = z.strictObject({
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
  readonly target: TableTarget;
  readonly ops: ReadonlySet<string>;
  readonly keyType: 'S' | 'N';
}

/**
 * Turns contract messages into WriteBatcher requests. Producers name *logical* tables; only routed
 * tables can be written, so a producer can never reach a table the pipeline does not own.
 */
export class Router {
  private readonly routes: ReadonlyMap<string, CompiledRoute>;

  constructor(config: RoutesConfig) {
    this.routes = new Map(
      Object.entries(config).map(([logical, route]) => [
        logical,
        {
          target: {
            tableName: route.tableName,
            partitionKey: route.partitionKey,
            sortKey: route.sortKey,
            ...(route.indexes ? { indexes: true } : {}),
          },
          ops: new Set(route.ops),
          keyType: route.keyType,
        },
      ]),
    );
  }

  /** Logical table names this router accepts. */
  get tables(): string[] {
    return [...this.routes.keys()];
  }

  /** Resolves a message to a write request; throws a typed `PipelineError` for permanent problems. */
  toWriteRequest(message: Message, scope?: string): WriteRequest {
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
      return { op: 'put', target, item: message.item, version: message.version, scope };
    }
    checkKeyAttribute(message.key, target.partitionKey, 'key', keyType);
    if (target.sortKey) checkKeyAttribute(message.key, target.sortKey, 'key', keyType);
    const expected = target.sortKey ? 2 : 1;
    if (Object.keys(message.key).length !== expected) {
      const extra = Object.keys(message.key).find((k) => k !== target.partitionKey && k !== target.sortKey);
      throw new InvalidKeyError(`key.${extra}`, 'is not a key attribute of the table');
    }
    return { op: 'delete', target, key: message.key, version: message.version, scope };
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
