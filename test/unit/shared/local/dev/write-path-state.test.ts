import { describe, expect, it } from 'vitest';
import { stateProblems } from '../../../../../shared/local/dev/demo/write-path.ts';

/** The table the demo workload implies: 500 profiles, 50 items at version 6, 50 tombstones at 10. */
function expectedItems(): Record<string, unknown>[] {
  const profiles = Array.from({ length: 500 }, (_, k) => ({
    pk: `demo#${k}`,
    sk: 'profile',
    seq: k + 1500,
    name: `user ${k}`,
  }));
  const versioned = Array.from({ length: 100 }, (_, k) =>
    k < 50
      ? { pk: `ver#${k}`, sk: 'state', _version: 10, _deleted: true, _expiresAt: 1 }
      : { pk: `ver#${k}`, sk: 'state', v: 6, _version: 6 },
  );
  return [...profiles, ...versioned];
}

describe('the write path demo check', () => {
  it('accepts the table the workload implies, whichever put of a profile landed last', () => {
    // Prepare
    const items = expectedItems().map((item) => (item.pk === 'demo#7' ? { ...item, seq: 7 } : item));
    // Act / Assess
    expect(stateProblems(items)).toEqual([]);
  });

  it('names an item an older version overwrote, a lost tombstone and an extra item', () => {
    // Prepare
    const items = expectedItems()
      .map((item) => (item.pk === 'ver#60' ? { ...item, v: 4, _version: 4 } : item))
      .filter((item) => item.pk !== 'ver#3')
      .concat([{ pk: 'x', sk: '1' }]);
    // Act
    const problems = stateProblems(items);
    // Assess
    expect(problems).toEqual([
      'ver#3 is missing',
      `ver#60 is ${JSON.stringify({ pk: 'ver#60', sk: 'state', v: 4, _version: 4 })}`,
    ]);
  });

  it('reports a table that holds more items than the workload wrote', () => {
    // Prepare
    const items = [...expectedItems(), { pk: 'big', sk: '1' }];
    // Act / Assess
    expect(stateProblems(items)).toEqual(['the table holds 601 items, expected 600']);
  });
});
