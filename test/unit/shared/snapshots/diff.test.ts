import { describe, expect, it } from 'vitest';
import { diffDocuments } from '../../../../shared/snapshots/diff.ts';

describe('diffDocuments', () => {
  it('lists added, removed and changed paths', () => {
    // Prepare
    const before = { routing: { a: { ops: ['put'] }, b: { t: 1 } }, n: 1 };
    const after = { routing: { a: { ops: ['put', 'delete'] }, c: { t: 2 } }, n: 2 };
    // Act
    const entries = diffDocuments(before, after);
    // Assess
    expect(entries).toEqual([
      { kind: 'added', path: 'routing.a.ops.1', after: 'delete' },
      { kind: 'removed', path: 'routing.b', before: { t: 1 } },
      { kind: 'added', path: 'routing.c', after: { t: 2 } },
      { kind: 'changed', path: 'n', before: 1, after: 2 },
    ]);
  });

  it('finds nothing between equal documents', () => {
    // Act
    const entries = diffDocuments({ a: [1, { b: null }] }, { a: [1, { b: null }] });
    // Assess
    expect(entries).toEqual([]);
  });

  it('reports a change of type as one change', () => {
    // Act
    const entries = diffDocuments({ a: [1] }, { a: { 0: 1 } });
    // Assess
    expect(entries).toEqual([{ kind: 'changed', path: 'a', before: [1], after: { 0: 1 } }]);
  });
});
