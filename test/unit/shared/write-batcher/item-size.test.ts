import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { marshalItem } from '../../../../shared/write-batcher/item-size.ts';

describe('marshalItem', () => {
  it('counts attribute names and UTF-8 string bytes', () => {
    expect(marshalItem({ ab: 'héllo' }).bytes).toBe(2 + 6);
  });

  it('counts numbers as one byte per two significant digits plus one', () => {
    expect(marshalItem({ n: 12345 }).bytes).toBe(1 + 4);
    expect(marshalItem({ n: 1000 }).bytes).toBe(1 + 2);
  });

  it('counts maps and lists with 3 bytes of overhead plus one per element', () => {
    expect(marshalItem({ m: { a: true } }).bytes).toBe(1 + 3 + (1 + 1) + 1);
    expect(marshalItem({ l: [null, 'x'] }).bytes).toBe(1 + 3 + (1 + 1) + (1 + 1));
  });

  it('marshals any JSON object exactly as util-dynamodb does', () => {
    // util-dynamodb refuses objects with a "constructor" key and unsafe numbers, and mishandles
    // "__proto__"; those keys are tested separately below.
    const safeJson = fc
      .jsonValue()
      .filter((v) => !/\d{16,}|e\+?\d|"constructor"|"__proto__"/i.test(JSON.stringify(v)));
    const plainKey = fc.string({ minLength: 1 }).filter((k) => k !== 'constructor' && k !== '__proto__');
    fc.assert(
      fc.property(fc.dictionary(plainKey, safeJson), (item) => {
        expect(marshalItem(item).attributes).toEqual(marshall(item, { removeUndefinedValues: true }));
      }),
    );
  });

  it('keeps attributes named "constructor" and "__proto__", which are plain JSON keys', () => {
    const item = JSON.parse('{"constructor":[1],"__proto__":{"x":"y"}}') as Record<string, unknown>;
    const { attributes } = marshalItem(item);
    expect(Object.keys(attributes).sort()).toEqual(['__proto__', 'constructor']);
    expect(attributes.constructor).toEqual({ L: [{ N: '1' }] });
    expect(Object.getOwnPropertyDescriptor(attributes, '__proto__')?.value).toEqual({ M: { x: { S: 'y' } } });
    expect(JSON.stringify(attributes)).toBe(
      '{"constructor":{"L":[{"N":"1"}]},"__proto__":{"M":{"x":{"S":"y"}}}}',
    );
  });

  it.each([
    ['an integer beyond 2^53', { n: 2 ** 60 }, /integer beyond 2\^53/],
    ['a non-finite number', { n: Number.NaN }, /n is NaN/],
    ['a class instance', { d: new Date(0) }, /d is a Date object/],
    ['a function', { f: () => 1 }, /f is a function/],
  ])('rejects %s with UnsupportedValueError naming the attribute', (_, item, message) => {
    expect(() => marshalItem(item)).toThrow(message);
  });

  it('rejects documents nested deeper than 32 levels, naming the path', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 33; i++) deep = { d: deep };
    expect(() => marshalItem({ deep })).toThrow(/item\.deep(\.d)+ nests deeper/);
  });
});
