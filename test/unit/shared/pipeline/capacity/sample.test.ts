import { describe, expect, it } from 'vitest';
import { parseSampleLine } from '../../../../../shared/pipeline/capacity/sample.ts';

describe('parseSampleLine', () => {
  it('takes a bare contract-v1 message, without a time', () => {
    const record = parseSampleLine('{"op":"put","item":{"pk":"a","sk":"1"}}', 3);
    expect(record).toEqual({
      line: 3,
      kind: 'write',
      message: { op: 'put', item: { pk: 'a', sk: '1' } },
      bodyBytes: 39,
    });
  });

  it('takes the send time of an envelope, in epoch milliseconds or ISO 8601', () => {
    const epoch = parseSampleLine('{"sentAt":1000,"message":{"op":"delete","key":{"pk":"a","sk":"1"}}}', 1);
    const iso = parseSampleLine(
      '{"sentAt":"1970-01-01T00:00:02.500Z","message":{"op":"delete","key":{"pk":"a","sk":"1"}}}',
      2,
    );
    expect([epoch.at, iso.at]).toEqual([1000, 2500]);
  });

  it('takes a read line', () => {
    expect(parseSampleLine('{"read":{"table":"orders","key":{"pk":"a"}},"sentAt":5}', 9)).toEqual({
      line: 9,
      at: 5,
      kind: 'read',
      table: 'orders',
      key: { pk: 'a' },
    });
  });

  it.each([
    ['{"op":"put"', /^line 4: not valid JSON/],
    ['{"op":"upsert","item":{}}', /^line 4: UNKNOWN_OP: /],
    ['{"op":"put","item":{"pk":"a"},"version":-1}', /^line 4: INVALID_VERSION: version/],
    [
      '{"sentAt":"yesterday","message":{}}',
      /^line 4: envelope sentAt: must be epoch milliseconds or an ISO 8601 time/,
    ],
    ['{"sentAt":1,"message":{},"extra":1}', /^line 4: envelope \(root\): /],
    ['{"read":{"key":{}},"oops":true}', /^line 4: read line \(root\): /],
  ])('refuses %s with the line number and the reason', (text, message) => {
    expect(() => parseSampleLine(text, 4)).toThrow(
      expect.objectContaining({ code: 'BAD_SAMPLE_LINE', line: 4, message: expect.stringMatching(message) }),
    );
  });
});
