import { describe, expect, it } from 'vitest';
import { applyChange } from '../../../../functions/snapshot-publisher/changes.ts';
import {
  InvalidChangeError,
  InvalidChangePathError,
} from '../../../../functions/snapshot-publisher/errors.ts';
import { parseChange } from '../../../../functions/snapshot-publisher/schema.ts';
import { InvalidSnapshotJsonError } from '../../../../shared/snapshots/errors.ts';

const base = { routing: { items: { tableName: 'items', ops: ['put', 'delete'] } }, models: {} };

describe('parseChange', () => {
  it.each([
    ['{"op":"set","path":"a.b","value":1}', { op: 'set', path: 'a.b', value: 1 }],
    ['{"op":"delete","path":"/a/b"}', { op: 'delete', path: '/a/b' }],
    ['{"op":"replace","document":{"a":1}}', { op: 'replace', document: { a: 1 } }],
  ])('reads %s', (body, expected) => {
    // Act
    const change = parseChange(body);
    // Assess
    expect(change).toEqual(expected);
  });

  it.each([
    ['not json', InvalidSnapshotJsonError],
    ['{"op":"merge","path":"a"}', InvalidChangeError],
    ['{"op":"set","path":"a"}', InvalidChangeError],
    ['{"op":"set","path":"a..b","value":1}', InvalidChangePathError],
    ['{"op":"set","path":"/a/__proto__/x","value":1}', InvalidChangePathError],
    ['{"op":"delete","path":"a","extra":true}', InvalidChangeError],
  ])('rejects %s', (body, type) => {
    // Act
    const parse = () => parseChange(body);
    // Assess
    expect(parse).toThrow(type);
  });
});

describe('applyChange', () => {
  it('sets a key by dotted path, creating objects on the way, without touching the input', () => {
    // Act
    const next = applyChange(base, { op: 'set', path: 'routing.orders.tableName', value: 'orders' });
    // Assess
    expect(next).toMatchObject({ routing: { orders: { tableName: 'orders' }, items: base.routing.items } });
    expect(base.routing).not.toHaveProperty('orders');
  });

  it('sets by JSON pointer, with ~1 and ~0 escapes and - to append', () => {
    // Act
    const a = applyChange(base, { op: 'set', path: '/routing/items/ops/-', value: 'x' });
    const b = applyChange({}, { op: 'set', path: '/a~1b/c~0d', value: 1 });
    // Assess
    expect(a).toMatchObject({ routing: { items: { ops: ['put', 'delete', 'x'] } } });
    expect(b).toEqual({ 'a/b': { 'c~d': 1 } });
  });

  it('deletes a key, and deleting a missing one changes nothing', () => {
    // Act
    const deleted = applyChange(base, { op: 'delete', path: 'routing.items' });
    const missing = applyChange(base, { op: 'delete', path: 'routing.nothing.here' });
    const element = applyChange(base, { op: 'delete', path: 'routing.items.ops.0' });
    // Assess
    expect(deleted).toEqual({ routing: {}, models: {} });
    expect(missing).toEqual(base);
    expect(element).toMatchObject({ routing: { items: { ops: ['delete'] } } });
  });

  it('replaces the whole document', () => {
    // Act
    const next = applyChange(base, { op: 'replace', document: { routing: {} } });
    // Assess
    expect(next).toEqual({ routing: {} });
  });

  it('refuses a path through a value that is not an object', () => {
    // Act
    const apply = () => applyChange(base, { op: 'set', path: 'routing.items.tableName.x', value: 1 });
    // Assess
    expect(apply).toThrow(/routing\.items\.tableName is string, not an object/);
  });
});
