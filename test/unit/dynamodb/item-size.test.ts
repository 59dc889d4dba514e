import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { measureItem } from '../../../shared/dynamodb/item-size.ts';

describe('measureItem', () => {
  it('counts attribute names and UTF-8 string bytes', () => {
    expect(measureItem(marshall({ ab: 'héllo' })).bytes).toBe(2 + 6);
  });

  it('counts numbers as one byte per two significant digits plus one', () => {
    expect(measureItem(marshall({ n: 12345 })).bytes).toBe(1 + 4);
    expect(measureItem(marshall({ n: 1000 })).bytes).toBe(1 + 2);
  });

  it('counts maps and lists with 3 bytes of overhead plus one per element', () => {
    expect(measureItem(marshall({ m: { a: true } })).bytes).toBe(1 + 3 + (1 + 1) + 1);
    expect(measureItem(marshall({ l: [null, 'x'] })).bytes).toBe(1 + 3 + (1 + 1) + (1 + 1));
  });
});
