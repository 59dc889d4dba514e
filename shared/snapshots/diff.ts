/** One difference between two documents, at a dotted path (`routing.items.ops.1`). */
export type DiffEntry =
  | { readonly kind: 'added'; readonly path: string; readonly after: unknown }
  | { readonly kind: 'removed'; readonly path: string; readonly before: unknown }
  | { readonly kind: 'changed'; readonly path: string; readonly before: unknown; readonly after: unknown };

/**
 * Structural differences from `before` to `after`, in key order: objects and arrays are compared
 * member by member, anything else by value.
 *
 * @example diffDocuments({ a: 1, b: [1] }, { a: 2, b: [1, 2] })
 * // [{ kind: 'changed', path: 'a', before: 1, after: 2 }, { kind: 'added', path: 'b.1', after: 2 }]
 */
export function diffDocuments(before: unknown, after: unknown): DiffEntry[] {
  const entries: DiffEntry[] = [];
  walk(before, after, '', entries);
  return entries;
}

function walk(before: unknown, after: unknown, path: string, entries: DiffEntry[]): void {
  if (Object.is(before, after)) return;
  const beforeKind = kindOf(before);
  if (beforeKind === 'value' || beforeKind !== kindOf(after)) {
    if (!sameValue(before, after)) entries.push({ kind: 'changed', path: path || '(root)', before, after });
    return;
  }
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const keys = new Set([...Object.keys(b), ...Object.keys(a)]);
  for (const key of keys) {
    const child = path ? `${path}.${key}` : key;
    if (!Object.hasOwn(a, key)) entries.push({ kind: 'removed', path: child, before: b[key] });
    else if (!Object.hasOwn(b, key)) entries.push({ kind: 'added', path: child, after: a[key] });
    else walk(b[key], a[key], child, entries);
  }
}

function kindOf(value: unknown): 'array' | 'object' | 'value' {
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' && value !== null ? 'object' : 'value';
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
