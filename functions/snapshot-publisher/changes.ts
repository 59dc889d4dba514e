import { InvalidChangePathError } from './errors.ts';
import { type ConfigChange, parsePath } from './schema.ts';

type Container = Record<string, unknown> | unknown[];

/**
 * Applies one change to a copy of `document` and returns the copy; `document` is not touched.
 * `set` creates missing objects on the way; `delete` of a missing key changes nothing (so a
 * redelivered change is harmless); arrays take numeric indexes (and `-` to append on `set`).
 */
export function applyChange(document: unknown, change: ConfigChange): unknown {
  if (change.op === 'replace') return structuredClone(change.document);
  const root = structuredClone(document ?? {});
  const keys = parsePath(change.path);
  let container: unknown = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i]!;
    const holder = asContainer(container, change.path, keys, i);
    let next = get(holder, key, change.path);
    if (next === undefined) {
      if (change.op === 'delete') return root;
      next = {};
      put(holder, key, next, change.path);
    }
    container = next;
  }
  const holder = asContainer(container, change.path, keys, keys.length - 1);
  const last = keys.at(-1)!;
  if (change.op === 'set') put(holder, last, structuredClone(change.value), change.path);
  else remove(holder, last);
  return root;
}

function asContainer(value: unknown, path: string, keys: readonly string[], depth: number): Container {
  if (typeof value === 'object' && value !== null) return value as Container;
  const at = keys.slice(0, depth).join('.') || '(root)';
  throw new InvalidChangePathError(path, `${at} is ${value === null ? 'null' : typeof value}, not an object`);
}

function get(holder: Container, key: string, path: string): unknown {
  if (Array.isArray(holder)) return holder[index(holder, key, path, false)];
  return Object.hasOwn(holder, key) ? holder[key] : undefined;
}

function put(holder: Container, key: string, value: unknown, path: string): void {
  if (Array.isArray(holder)) holder[index(holder, key, path, true)] = value;
  else holder[key] = value;
}

function remove(holder: Container, key: string): void {
  if (!Array.isArray(holder)) {
    delete holder[key];
    return;
  }
  const i = Number(key);
  if (Number.isInteger(i) && i >= 0 && i < holder.length) holder.splice(i, 1);
}

function index(array: unknown[], key: string, path: string, forWrite: boolean): number {
  if (forWrite && key === '-') return array.length;
  const i = /^(0|[1-9]\d*)$/.test(key) ? Number(key) : Number.NaN;
  if (Number.isNaN(i) || (forWrite && i > array.length)) {
    throw new InvalidChangePathError(path, `"${key}" is not an index of an array of ${array.length}`);
  }
  return i;
}
