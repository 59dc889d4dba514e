import { DEFAULT_TABLE, type Message } from '../contract/index.ts';
import { writePathSettings } from '../pipeline/settings.ts';
import { InvalidTenantError } from './errors.ts';
import { groupIdProblem } from './limits.ts';

/**
 * The tenant of a message on a standard queue (SQS fair queues: its `MessageGroupId`): one id for
 * every message, or a function of the message (`undefined`: that message has no tenant).
 */
export type TenantOption = string | ((message: Message) => string | undefined);

/**
 * The tenant of `message` by `tenant`, checked: 1 to 128 letters, digits and ASCII punctuation.
 * Throws `InvalidTenantError` (naming the value and the message) when SQS would refuse it or the
 * function throws or returns something other than a string.
 */
export function resolveTenant(message: Message, tenant: TenantOption | undefined): string | undefined {
  let value: unknown = tenant;
  if (typeof tenant === 'function') {
    try {
      value = tenant(message);
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new InvalidTenantError(
        undefined,
        describeTarget(message),
        `the tenant function threw: ${detail}`,
        {
          cause,
        },
      );
    }
  }
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new InvalidTenantError(value, describeTarget(message), `must be a string, got ${typeOf(value)}`);
  }
  const problem = groupIdProblem(value);
  if (problem) throw new InvalidTenantError(value, describeTarget(message), problem);
  return value;
}

/**
 * Names the message a tenant error is about: its logical table and the key attributes of the
 * pipeline's table settings, e.g. `put items {"pk":"user#1","sk":"profile"}`.
 */
export function describeTarget(message: Message): string {
  const { partitionKey, sortKey } = writePathSettings.table;
  const attributes: Readonly<Record<string, unknown>> = message.op === 'put' ? message.item : message.key;
  const key: Record<string, unknown> = {};
  for (const name of [partitionKey, sortKey])
    if (attributes[name] !== undefined) key[name] = attributes[name];
  let text: string;
  try {
    text = JSON.stringify(key);
  } catch {
    text = '(key not serialisable)';
  }
  return `${message.op} ${message.table ?? DEFAULT_TABLE} ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
