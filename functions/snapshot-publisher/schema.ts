import { z } from 'zod';
import { parseJson } from '../../shared/snapshots/index.ts';
import { InvalidChangeError, InvalidChangePathError } from './errors.ts';

/**
 * A change to the configuration document, the JSON body of one config-changes message. `path` is
 * a JSON pointer (`/routing/items/ops`) or a dotted path (`routing.items.ops`).
 *
 * @example
 * { "op": "set", "path": "routing.orders", "value": { "tableName": "orders", "partitionKey": "pk" } }
 * { "op": "delete", "path": "/routing/legacy" }
 * { "op": "replace", "document": { "routing": { … } } }
 */
export const ConfigChangeSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('set'),
    path: z.string().min(1).max(1024),
    value: z.unknown().refine((value) => value !== undefined, 'is required'),
  }),
  z.strictObject({ op: z.literal('delete'), path: z.string().min(1).max(1024) }),
  z.strictObject({
    op: z.literal('replace'),
    document: z.unknown().refine((value) => value !== undefined, 'is required'),
  }),
]);

export type ConfigChange = z.infer<typeof ConfigChangeSchema>;

/** Parses a message body into a change; throws `InvalidSnapshotJsonError` or `InvalidChangeError`. */
export function parseChange(body: string): ConfigChange {
  const parsed = ConfigChangeSchema.safeParse(parseJson(body, 'the message body'));
  if (parsed.success) {
    if (parsed.data.op !== 'replace') parsePath(parsed.data.path);
    return parsed.data;
  }
  const issue = parsed.error.issues[0]!;
  throw new InvalidChangeError(issue.path.map(String).join('.'), issue.message);
}

/** Splits a JSON pointer (RFC 6901) or a dotted path into keys. */
export function parsePath(path: string): string[] {
  const segments = path.startsWith('/')
    ? path
        .slice(1)
        .split('/')
        .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    : path.split('.');
  if (segments.some((s) => s === '')) throw new InvalidChangePathError(path, 'has an empty key');
  if (segments.includes('__proto__')) throw new InvalidChangePathError(path, 'names __proto__');
  return segments;
}
