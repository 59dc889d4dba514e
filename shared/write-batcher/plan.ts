import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { PipelineError } from '../core/errors.ts';
import {
  ItemTooLargeError,
  KeyTooLongError,
  MAX_ITEM_BYTES,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  UnsupportedValueError,
} from './errors.ts';
import { marshalItem, utf8Bytes } from './item-size.ts';
import type { TableTarget, Versioning, WriteRequest } from './types.ts';

/** A validated, marshalled write that will be sent on behalf of one input (and those it superseded). */
export interface PlannedWrite {
  /** Index of the input this write carries. */
  readonly index: number;
  readonly target: TableTarget;
  /** `${table}\0${key}` — unique per item across scopes; BatchWriteItem must not see it twice. */
  readonly itemKey: string;
  /** Unconditional puts/deletes go through BatchWriteItem; version-guarded ones are conditional writes. */
  readonly kind: 'put' | 'delete' | 'guardedPut';
  /** Marshalled item (put, guardedPut) or key (delete). */
  readonly attributes: Record<string, AttributeValue>;
  readonly version?: number;
  /** DynamoDB's size of the item (or key) written. */
  readonly itemBytes: number;
  readonly wireBytes: number;
}

/** The result of planning: what to send, and what was decided without sending. */
export interface WritePlan {
  readonly writes: PlannedWrite[];
  /** For every input: the index of the input whose write carries it (itself when it is sent). */
  readonly carrier: Int32Array;
  /** Inputs rejected before sending. */
  readonly rejected: Map<number, PipelineError>;
}

/**
 * Validates, marshals and coalesces requests. Within one scope, the last writer of an item wins: by
 * version when both carry one, else by arrival order. Rejected requests never win. A versioned
 * write stores its version in `versioning.versionAttribute`; a versioned delete becomes a tombstone.
 */
export function planWrites(
  requests: readonly WriteRequest[],
  versioning: Versioning,
  now: number = Date.now(),
): WritePlan {
  const carrier = new Int32Array(requests.length);
  const rejected = new Map<number, PipelineError>();
  const winners = new Map<string, number>(); // scoped key → index into slots
  const slots: PlannedWrite[] = [];
  // Superseded inputs point at the write that replaced them; resolved to the final winner below.
  const supersededBy = new Int32Array(requests.length).fill(-1);

  for (let i = 0; i < requests.length; i++) {
    const request = requests[i]!;
    let write: PlannedWrite;
    try {
      write = planOne(request, i, versioning, now);
    } catch (error) {
      rejected.set(i, error as PipelineError);
      carrier[i] = i;
      continue;
    }
    const scopedKey = request.scope === undefined ? write.itemKey : `${request.scope}\u0001${write.itemKey}`;
    const slot = winners.get(scopedKey);
    if (slot === undefined) {
      winners.set(scopedKey, slots.length);
      slots.push(write);
      continue;
    }
    const current = slots[slot]!;
    if (supersedes(write, current)) {
      supersededBy[current.index] = i;
      slots[slot] = write;
    } else {
      supersededBy[i] = current.index;
    }
  }

  for (let i = 0; i < requests.length; i++) {
    if (rejected.has(i)) continue;
    let c = i;
    while (supersededBy[c]! !== -1) c = supersededBy[c]!;
    carrier[i] = c;
  }
  return { writes: slots, carrier, rejected };
}

function supersedes(next: PlannedWrite, current: PlannedWrite): boolean {
  if (next.version !== undefined && current.version !== undefined) return next.version >= current.version;
  return true;
}

function planOne(request: WriteRequest, index: number, versioning: Versioning, now: number): PlannedWrite {
  const { target } = request;
  const { versionAttribute, deletedAttribute, ttlAttribute } = versioning;
  const keySource = request.op === 'put' ? request.item : request.key;
  const itemKey = keyOf(target, keySource);
  const guarded = request.version !== undefined;
  let source: Readonly<Record<string, unknown>>;
  if (request.op === 'put') {
    source = guarded ? { ...request.item, [versionAttribute]: request.version } : request.item;
  } else {
    const key = pickKey(target, request.key);
    source = guarded
      ? {
          ...key,
          [versionAttribute]: request.version,
          [deletedAttribute]: true,
          [ttlAttribute]: tombstoneExpiry(now, versioning.tombstoneTtlDays),
        }
      : key;
  }
  const { attributes, bytes, wireBytes } = marshalItem(source);
  if (bytes > MAX_ITEM_BYTES) throw new ItemTooLargeError(bytes);
  return {
    index,
    target,
    itemKey,
    kind: guarded ? 'guardedPut' : request.op,
    attributes,
    version: request.version,
    itemBytes: bytes,
    wireBytes,
  };
}

function tombstoneExpiry(now: number, tombstoneTtlDays: number): number {
  return Math.floor(now / 1000) + tombstoneTtlDays * 86_400;
}

function pickKey(target: TableTarget, source: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const key: Record<string, unknown> = { [target.partitionKey]: source[target.partitionKey] };
  if (target.sortKey) key[target.sortKey] = source[target.sortKey];
  return key;
}

/** Identity of an item: table plus typed key values, checked against DynamoDB's key length limits. */
export function keyOf(target: TableTarget, source: Readonly<Record<string, unknown>>): string {
  const pk = keyPart(target.partitionKey, source[target.partitionKey], MAX_PARTITION_KEY_BYTES);
  if (!target.sortKey) return `${target.tableName}\u0000${pk}`;
  return `${target.tableName}\u0000${pk}\u0000${keyPart(target.sortKey, source[target.sortKey], MAX_SORT_KEY_BYTES)}`;
}

/** The same identity, from a marshalled item or key (as DynamoDB returns it in UnprocessedItems). */
export function keyOfMarshalled(target: TableTarget, attributes: Record<string, AttributeValue>): string {
  return keyOf(target, {
    [target.partitionKey]: scalarOf(attributes[target.partitionKey]),
    ...(target.sortKey ? { [target.sortKey]: scalarOf(attributes[target.sortKey]) } : {}),
  });
}

function scalarOf(value: AttributeValue | undefined): unknown {
  if (value?.S !== undefined) return value.S;
  if (value?.N !== undefined) return Number(value.N);
  return undefined;
}

function keyPart(name: string, value: unknown, limit: number): string {
  if (typeof value === 'string') {
    const bytes = utf8Bytes(value);
    if (bytes > limit) throw new KeyTooLongError(name, bytes, limit);
    return `S${value}`;
  }
  if (typeof value === 'number') return `N${value}`;
  throw new UnsupportedValueError(`key attribute ${name} must be a string or number`);
}
