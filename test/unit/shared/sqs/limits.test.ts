import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidGroupIdError,
  InvalidMessageBodyError,
  MessageTooLargeError,
  MissingGroupIdError,
} from '../../../../shared/sqs/errors.ts';
import {
  checkEntry,
  entryBytes,
  findDisallowedCharacter,
  groupIdProblem,
  replaceDisallowedCharacters,
  sqsLimits,
} from '../../../../shared/sqs/limits.ts';

const standard = { url: 'https://sqs.us-east-1.amazonaws.com/1/ingest', fifo: false };
const fifo = { url: 'https://sqs.us-east-1.amazonaws.com/1/ingest.fifo', fifo: true };

/** Code points SQS accepts: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
const allowedCodePoint = fc.oneof(
  fc.constantFrom(0x9, 0xa, 0xd),
  fc.integer({ min: 0x20, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0xfffd }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
);
const disallowedCodePoint = fc.oneof(
  fc.integer({ min: 0x0, max: 0x8 }),
  fc.constantFrom(0xb, 0xc, 0xfffe, 0xffff),
  fc.integer({ min: 0xe, max: 0x1f }),
  fc.integer({ min: 0xd800, max: 0xdfff }), // a lone surrogate
);
const allowedText = fc.array(allowedCodePoint, { maxLength: 40 }).map((cps) => String.fromCodePoint(...cps));

describe('entryBytes', () => {
  it('counts the UTF-8 body plus every attribute name, data type and value', () => {
    // Prepare
    const entry = {
      body: 'héllo', // 6 bytes
      messageAttributes: {
        ErrorCode: { DataType: 'String', StringValue: 'ÜBER' }, // 9 + 6 + 5
        Blob: { DataType: 'Binary', BinaryValue: new Uint8Array(7) }, // 4 + 6 + 7
      },
    };
    // Act
    const bytes = entryBytes(entry);
    // Assess
    expect(bytes).toBe(6 + 9 + 6 + 5 + 4 + 6 + 7);
  });
});

describe('findDisallowedCharacter', () => {
  it('accepts any text made of the characters SQS allows', () => {
    fc.assert(
      fc.property(allowedText, (text) => {
        expect(findDisallowedCharacter(text)).toBeUndefined();
      }),
    );
  });

  it('finds the first character SQS refuses, with its index and code point', () => {
    fc.assert(
      fc.property(allowedText, disallowedCodePoint, allowedText, (before, bad, after) => {
        const text = before + String.fromCodePoint(bad) + after;
        expect(findDisallowedCharacter(text)).toEqual({ index: before.length, codePoint: bad });
      }),
    );
  });
});

describe('replaceDisallowedCharacters', () => {
  it('leaves allowed text alone and makes any text acceptable to SQS', () => {
    fc.assert(
      fc.property(allowedText, fc.array(fc.tuple(disallowedCodePoint, allowedText)), (head, tail) => {
        const text = head + tail.map(([bad, ok]) => String.fromCodePoint(bad) + ok).join('');
        const cleaned = replaceDisallowedCharacters(text);
        expect(findDisallowedCharacter(cleaned)).toBeUndefined();
        expect(replaceDisallowedCharacters(head)).toBe(head);
      }),
    );
  });

  it('replaces with U+FFFD', () => {
    expect(replaceDisallowedCharacters('a\u0000b\uD800')).toBe('a\uFFFDb\uFFFD');
  });
});

describe('checkEntry', () => {
  it('accepts a message of exactly the size limit and refuses one byte more', () => {
    // Prepare
    const exact = { body: 'x'.repeat(sqsLimits.maxMessageBytes) };
    const over = { body: 'x'.repeat(sqsLimits.maxMessageBytes + 1) };
    // Act
    const bytes = checkEntry(exact, standard, sqsLimits.maxMessageBytes);
    // Assess
    expect(bytes).toBe(sqsLimits.maxMessageBytes);
    expect(() => checkEntry(over, standard, sqsLimits.maxMessageBytes)).toThrow(MessageTooLargeError);
    expect(() => checkEntry(over, standard, sqsLimits.maxMessageBytes)).toThrow(
      "message is 1048577 bytes (body + attributes); SQS's limit is 1048576",
    );
  });

  it('counts attributes against the size limit', () => {
    const entry = {
      body: 'x'.repeat(sqsLimits.maxMessageBytes - 10),
      messageAttributes: { Code: { DataType: 'String', StringValue: 'abcdef' } },
    };
    expect(() => checkEntry(entry, standard, sqsLimits.maxMessageBytes)).toThrow(MessageTooLargeError);
  });

  it.each([
    ['an empty body', { body: '' }, 'body: must not be empty'],
    ['a NUL character', { body: 'a\u0000b' }, 'body: character U+0000 at index 1 is not allowed by SQS'],
    ['a lone surrogate', { body: 'ok\uD800' }, 'body: character U+D800 at index 2'],
    [
      'a bad character in a string attribute',
      { body: 'ok', messageAttributes: { ErrorMessage: { DataType: 'String', StringValue: '\uFFFF' } } },
      'messageAttributes.ErrorMessage: character U+FFFF at index 0',
    ],
  ])('refuses %s', (_, entry, message) => {
    expect(() => checkEntry(entry, standard, sqsLimits.maxMessageBytes)).toThrow(InvalidMessageBodyError);
    expect(() => checkEntry(entry, standard, sqsLimits.maxMessageBytes)).toThrow(message);
  });

  it('requires a message group id on a FIFO queue only', () => {
    expect(() => checkEntry({ body: 'a' }, fifo, sqsLimits.maxMessageBytes)).toThrow(MissingGroupIdError);
    expect(checkEntry({ body: 'a', messageGroupId: 'g' }, fifo, sqsLimits.maxMessageBytes)).toBe(1);
    expect(checkEntry({ body: 'a' }, standard, sqsLimits.maxMessageBytes)).toBe(1);
  });

  it('checks a message group id on either kind of queue (on a standard queue it is the fair-queue tenant)', () => {
    // Act
    const tenant = () => checkEntry({ body: 'a', messageGroupId: 'acme corp' }, standard, 1024);
    const group = () => checkEntry({ body: 'a', messageGroupId: 'g'.repeat(129) }, fifo, 1024);
    // Assess
    expect(tenant).toThrow(InvalidGroupIdError);
    expect(tenant).toThrow(expect.objectContaining({ code: 'INVALID_GROUP_ID', groupId: 'acme corp' }));
    expect(tenant).toThrow('messageGroupId "acme corp": character U+0020 at index 4 is not allowed');
    expect(group).toThrow('is 129 characters long; SQS allows 1 to 128');
    expect(checkEntry({ body: 'a', messageGroupId: 'tenant#1' }, standard, 1024)).toBe(1);
  });
});

describe('groupIdProblem', () => {
  it('accepts 1 to 128 letters, digits and ASCII punctuation', () => {
    const punctuation = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
    expect(groupIdProblem(`aZ09${punctuation}`)).toBeUndefined();
    expect(groupIdProblem('x'.repeat(128))).toBeUndefined();
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x7E]{1,128}$/), (value) => groupIdProblem(value) === undefined),
    );
  });

  it.each([
    ['', 'must not be empty'],
    ['x'.repeat(129), 'is 129 characters long; SQS allows 1 to 128'],
    ['a b', 'character U+0020 at index 1 is not allowed'],
    ['caf\u00E9', 'character U+00E9 at index 3'],
    ['tab\there', 'character U+0009 at index 3'],
  ])('refuses %j', (value, problem) => {
    expect(groupIdProblem(value)).toContain(problem);
  });
});
