import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidJsonError, InvalidMessageError } from '../../../../shared/contract/errors.ts';
import {
  type Message,
  MessageSchema,
  parseMessage,
  validateMessage,
} from '../../../../shared/contract/message.ts';

describe('parseMessage (contract v1)', () => {
  it('accepts a put with an optional table and version', () => {
    const message = parseMessage(
      '{"op":"put","table":"items","item":{"pk":"a","sk":"1","x":[1]},"version":7}',
    );
    expect(message).toEqual({ op: 'put', table: 'items', item: { pk: 'a', sk: '1', x: [1] }, version: 7 });
  });

  it('accepts a delete without table or version', () => {
    expect(parseMessage('{"op":"delete","key":{"pk":"a","sk":"1"}}')).toEqual({
      op: 'delete',
      key: { pk: 'a', sk: '1' },
    });
  });

  it.each([
    ['not json', '{"op":', InvalidJsonError, 'INVALID_JSON'],
    ['an unknown op', '{"op":"upsert","item":{}}', InvalidMessageError, 'UNKNOWN_OP'],
    [
      'a negative version',
      '{"op":"put","item":{"pk":"a"},"version":-1}',
      InvalidMessageError,
      'INVALID_VERSION',
    ],
    [
      'a fractional version',
      '{"op":"put","item":{"pk":"a"},"version":1.5}',
      InvalidMessageError,
      'INVALID_VERSION',
    ],
    [
      'an unsafe version',
      '{"op":"put","item":{"pk":"a"},"version":9007199254740993}',
      InvalidMessageError,
      'INVALID_VERSION',
    ],
    [
      'a string version',
      '{"op":"put","item":{"pk":"a"},"version":"7"}',
      InvalidMessageError,
      'INVALID_VERSION',
    ],
    [
      'an extra field',
      '{"op":"put","item":{"pk":"a"},"tabel":"items"}',
      InvalidMessageError,
      'INVALID_MESSAGE',
    ],
    ['a missing item', '{"op":"put"}', InvalidMessageError, 'INVALID_MESSAGE'],
    ['an array body', '[1,2]', InvalidMessageError, 'INVALID_MESSAGE'],
    [
      'a bad table name',
      '{"op":"put","table":"a/b","item":{"pk":"a"}}',
      InvalidMessageError,
      'INVALID_MESSAGE',
    ],
  ])('rejects %s with a typed error and code', (_, body, type, code) => {
    expect(() => parseMessage(body)).toThrow(type);
    try {
      parseMessage(body);
    } catch (error) {
      expect((error as InvalidMessageError).code).toBe(code);
    }
  });

  it('refuses a "__proto__" attribute by name instead of dropping it', () => {
    expect(() => parseMessage('{"op":"put","item":{"pk":"a","sk":"1","m":{"__proto__":{"x":1}}}}')).toThrow(
      /item\.m\.__proto__: attribute name "__proto__" is not supported/,
    );
    expect(parseMessage('{"op":"put","item":{"pk":"a","sk":"1","note":"\\"__proto__\\""}}').op).toBe('put');
  });

  it('names the path of the bad field', () => {
    expect(() => parseMessage('{"op":"delete","key":{"pk":true}}')).toThrow(/key\.pk/);
  });
});

describe('validateMessage: the put fast path agrees with the schema', () => {
  // Puts near the edge of every rule: tables of any text, versions of any number, items with and
  // without an empty attribute name, extra keys, other ops, non-objects.
  const attributeName = fc.oneof(fc.constant(''), fc.string({ maxLength: 4 }));
  const item = fc.oneof(
    fc.dictionary(attributeName, fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxKeys: 4 }),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.string(),
    fc.constant(null),
  );
  const candidate = fc.record(
    {
      op: fc.constantFrom('put', 'delete', 'upsert', 7),
      table: fc.oneof(
        fc.constantFrom('items', 'a.b-c_1', 'x'.repeat(64), 'x'.repeat(65), 'bad name'),
        fc.string(),
        fc.integer(),
      ),
      item,
      key: fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string(), fc.integer())),
      version: fc.oneof(
        fc.integer({ min: -3, max: 3 }),
        fc.constantFrom(0.5, -0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 60),
        fc.string({ maxLength: 2 }),
      ),
      extra: fc.string({ maxLength: 2 }),
    },
    { requiredKeys: [] },
  );

  it('accepts exactly what MessageSchema accepts, and returns the same message', () => {
    fc.assert(
      fc.property(candidate, (value) => {
        const schema = MessageSchema.safeParse(value);
        let fast: Message | Error;
        try {
          fast = validateMessage(value);
        } catch (error) {
          fast = error as Error;
        }
        if (schema.success) expect(fast).toEqual(schema.data);
        else expect(fast).toBeInstanceOf(InvalidMessageError);
      }),
      { numRuns: 2000 },
    );
  });
});
