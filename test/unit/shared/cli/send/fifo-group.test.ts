import { describe, expect, it } from 'vitest';
import { fifoMessageIds, keyOf } from '../../../../../shared/cli/send/fifo-group.ts';
import { putMessage } from '../../../../support/factories/writes.ts';

describe('keyOf', () => {
  it('gives a put and a delete of the same item the same key', () => {
    // Act
    const put = keyOf(putMessage('a', { n: 1 }));
    const del = keyOf({ op: 'delete', table: 'items', key: { pk: 'a', sk: '1' } });
    // Assess
    expect(put).toBe(del);
    expect(keyOf(putMessage('b'))).not.toBe(put);
  });
});

describe('fifoMessageIds', () => {
  it('gives a standard queue no IDs', () => {
    // Act
    const ids = fifoMessageIds(false, 4)('k', 0);
    // Assess
    expect(ids).toEqual({});
  });

  it('keeps each key in one of the groups, with a deduplication ID unique within the run', () => {
    // Prepare
    const ids = fifoMessageIds(true, 4);
    // Act
    const first = ids('key-1', 0);
    const again = ids('key-1', 1);
    const groups = new Set(Array.from({ length: 200 }, (_, i) => ids(`key-${i}`, i).groupId));
    // Assess
    expect(again.groupId).toBe(first.groupId);
    expect(again.dedupId).not.toBe(first.dedupId);
    expect([...groups].sort()).toEqual(['g0', 'g1', 'g2', 'g3']);
  });
});
