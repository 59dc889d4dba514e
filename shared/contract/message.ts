import { z } from 'zod';
import { InvalidJsonError, InvalidMessageError } from './errors.ts';

/**
 * Message contract v1: the JSON body of one ingest-queue message.
 *
 * @example
 * { "op": "put", "table": "items", "item": { "pk": "a", "sk": "1", "n": 1 }, "version": 7 }
 * { "op": "delete", "table": "items", "key": { "pk": "a", "sk": "1" }, "version": 8 }
 */
export const DEFAULT_TABLE = 'items';

const tableName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -')
  .optional();
const version = z
  .number()
  .int('must be an integer')
  .nonnegative('must be ≥ 0')
  .lte(Number.MAX_SAFE_INTEGER, 'must be a safe integer')
  .optional();
/**
 * An item: a plain object whose attribute names are not empty (the empty string is the only name
 * DynamoDB refuses). Checked in place: a `z.record` rebuilds every item key by key, which profiled
 * at a tenth of the batch writer's CPU per record, plus the garbage it leaves.
 */
const attributes = z
  .custom<Record<string, unknown>>(isPlainObject, 'must be an object of attributes')
  .refine((item) => !Object.hasOwn(item, ''), { message: 'attribute names must not be empty', path: [''] });
const keyValue = z.union([z.string(), z.number()]);

export const PutMessageSchema = z.strictObject({
  op: z.literal('put'),
  table: tableName,
  item: attributes,
  version,
});

export const DeleteMessageSchema = z.strictObject({
  op: z.literal('delete'),
  table: tableName,
  key: z.record(z.string().min(1), keyValue),
  version,
});

export const MessageSchema = z.discriminatedUnion('op', [PutMessageSchema, DeleteMessageSchema]);

export type PutMessage = z.infer<typeof PutMessageSchema>;
export type DeleteMessage = z.infer<typeof DeleteMessageSchema>;
export type Message = z.infer<typeof MessageSchema>;

/** Validates an already-parsed value against contract v1; throws `InvalidMessageError` with the path. */
export function validateMessage(value: unknown): Message {
  const valid = validPut(value);
  if (valid !== undefined) return valid;
  const result = MessageSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const code =
    issue.path[0] === 'version'
      ? 'INVALID_VERSION'
      : issue.path[0] === 'op'
        ? 'UNKNOWN_OP'
        : 'INVALID_MESSAGE';
  return throwInvalid(path, issue.message, code);
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const PUT_KEYS: ReadonlySet<string> = new Set(['op', 'table', 'item', 'version']);

/**
 * The batch writer's common case, a valid put, recognised without the schema: `PutMessageSchema`'s
 * rules checked in place, so the message comes back as parsed instead of rebuilt (the schema's
 * parse was half of the contract's CPU per record). Anything else — a delete, any fault — is
 * `undefined`, and the schema decides and names the fault. The unit tests check both agree on
 * generated messages.
 */
function validPut(value: unknown): PutMessage | undefined {
  if (!isPlainObject(value) || value.op !== 'put') return undefined;
  for (const key in value) if (!PUT_KEYS.has(key)) return undefined;
  const { table, item, version } = value;
  if (table !== undefined && (typeof table !== 'string' || !TABLE_NAME.test(table))) return undefined;
  if (version !== undefined && !(Number.isSafeInteger(version) && (version as number) >= 0)) return undefined;
  if (!isPlainObject(item) || Object.hasOwn(item, '')) return undefined;
  return value as PutMessage;
}

function throwInvalid(path: string, detail: string, code: string): never {
  throw new InvalidMessageError(path, detail, code);
}

/** Parses an SQS body (JSON text) into a contract-v1 message. */
export function parseMessage(body: string): Message {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new InvalidJsonError((cause as Error).message, { cause });
  }
  // JSON.parse keeps a "__proto__" key as an own property, but schema validation (and any object
  // spread) would drop it silently: refuse it by name instead.
  if (body.includes('"__proto__"')) {
    const path = protoKeyPath(value, '');
    if (path !== undefined)
      throw new InvalidMessageError(path, 'attribute name "__proto__" is not supported');
  }
  return validateMessage(value);
}

function protoKeyPath(value: unknown, path: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '__proto__') return here;
    const found = protoKeyPath((value as Record<string, unknown>)[key], here);
    if (found !== undefined) return found;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
