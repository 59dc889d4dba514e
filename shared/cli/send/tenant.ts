/**
 * The tenant of each message `pipeline send` sends to a standard queue (SQS fair queues): one id
 * (`--tenant`), or the value of an item attribute (`--tenant-key`).
 */

import type { Message } from '../../contract/index.ts';
import type { TenantOption } from '../../sqs/index.ts';

/** The flags that choose the tenant. */
export interface TenantFlags {
  readonly tenant?: string;
  readonly tenantKey?: string;
}

/** The producer's `tenant` option for these flags; undefined when neither is given. */
export function tenantOption(flags: TenantFlags): TenantOption | undefined {
  if (flags.tenant !== undefined) return flags.tenant;
  if (flags.tenantKey !== undefined) return attributeTenant(flags.tenantKey);
  return undefined;
}

/**
 * Reads the tenant from `attribute` of a put's item or a delete's key: a string as it is, a number
 * in decimal. A put's item must have it (a typo would otherwise send every message untagged); a
 * delete's key usually holds only the key attributes, so a delete without it has no tenant.
 */
export function attributeTenant(attribute: string): (message: Message) => string | undefined {
  return (message) => {
    const attributes: Readonly<Record<string, unknown>> = message.op === 'put' ? message.item : message.key;
    const value = attributes[attribute];
    if (value === undefined) {
      if (message.op === 'delete') return undefined;
      throw new Error(`the item has no attribute "${attribute}" (--tenant-key)`);
    }
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    throw new Error(
      `attribute "${attribute}" is ${kindOf(value)}; a tenant must be a string or a number (--tenant-key)`,
    );
  };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The tenant of a raw body sent invalid on purpose (`--invalid-rate`): best effort, since such a
 * body need not be a contract message; undefined when it has none.
 */
export function rawBodyTenant(flags: TenantFlags, body: string): string | undefined {
  if (flags.tenant !== undefined) return flags.tenant;
  if (flags.tenantKey === undefined) return undefined;
  try {
    const parsed = JSON.parse(body) as { item?: Record<string, unknown>; key?: Record<string, unknown> };
    const value = (parsed.item ?? parsed.key)?.[flags.tenantKey];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  } catch {
    return undefined;
  }
}
