import type { Message } from '../../../shared/contract/message.ts';
import type { RoutesConfig } from '../../../shared/pipeline/routing.ts';
import type { TableTarget, Versioning, WriteRequest } from '../../../shared/write-batcher/types.ts';

export const itemsTarget: TableTarget = { tableName: 'items-physical', partitionKey: 'pk', sortKey: 'sk' };

/** The WriteBatcher's default versioning attributes, as `planWrites` receives them. */
export const versioning: Versioning = {
  versionAttribute: '_version',
  deletedAttribute: '_deleted',
  ttlAttribute: '_expiresAt',
  tombstoneTtlDays: 15,
};

export const itemsRoutes: RoutesConfig = {
  items: {
    tableName: itemsTarget.tableName,
    partitionKey: 'pk',
    sortKey: 'sk',
    keyType: 'S',
    ops: ['put', 'delete'],
  },
};

/** A contract-v1 put message. */
export function putMessage(pk: string, fields: Record<string, unknown> = {}, version?: number): Message {
  return {
    op: 'put',
    table: 'items',
    item: { pk, sk: '1', ...fields },
    ...(version === undefined ? {} : { version }),
  };
}

/** A contract-v1 delete message. */
export function deleteMessage(pk: string, version?: number): Message {
  return {
    op: 'delete',
    table: 'items',
    key: { pk, sk: '1' },
    ...(version === undefined ? {} : { version }),
  };
}

/** A WriteBatcher put request. */
export function put(
  pk: string,
  fields: Record<string, unknown> = {},
  options: { version?: number; scope?: string; target?: TableTarget } = {},
): WriteRequest {
  return {
    op: 'put',
    target: options.target ?? itemsTarget,
    item: { pk, sk: '1', ...fields },
    version: options.version,
    scope: options.scope,
  };
}

/** A WriteBatcher delete request. */
export function del(pk: string, options: { version?: number; scope?: string } = {}): WriteRequest {
  return {
    op: 'delete',
    target: itemsTarget,
    key: { pk, sk: '1' },
    version: options.version,
    scope: options.scope,
  };
}
