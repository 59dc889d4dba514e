import { describe, expect, it } from 'vitest';
import { InvalidJsonError, InvalidMessageError } from '../../../../shared/contract/errors.ts';
import { parseMessage } from '../../../../shared/contract/message.ts';

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
