import { describe, expect, it } from 'vitest';
import { SourceReadError } from '../../../../../shared/cli/errors.ts';
import { BadLineError, parseLines } from '../../../../../shared/cli/send/jsonl.ts';

async function* from(lines: readonly string[]): AsyncGenerator<string> {
  yield* lines;
}

async function collect(lines: readonly string[]) {
  const out = [];
  for await (const parsed of parseLines('input.jsonl', from(lines))) out.push(parsed);
  return out;
}

describe('parseLines', () => {
  it('yields each message with the key of its item, skipping blank lines', async () => {
    // Act
    const parsed = await collect([
      '{"op":"put","item":{"pk":"a","sk":"1"}}',
      '  ',
      '{"op":"delete","key":{"pk":"b"}}',
    ]);
    // Assess
    expect(parsed.map((p) => p.message.op)).toEqual(['put', 'delete']);
    expect(parsed[0]!.key).toBe(JSON.stringify(['', 'a', '1']));
  });

  it.each([
    ['{"op":"put"', /^not valid JSON: /],
    ['{"op":"upsert","item":{"pk":"a"}}', /^[A-Z_]+: /],
  ])('names the line number and the fault of %s', async (bad, detail) => {
    // Act
    const error = await collect(['{"op":"delete","key":{"pk":"a"}}', '', bad]).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(BadLineError);
    expect(error).toMatchObject({ line: 3, message: expect.stringMatching(detail) });
  });

  it('reports a failing read as a SourceReadError naming the input', async () => {
    // Prepare
    async function* failing(): AsyncGenerator<string> {
      yield '{"op":"delete","key":{"pk":"a"}}';
      throw new Error('EIO: i/o error');
    }
    // Act
    const read = async () => {
      for await (const _ of parseLines('input.jsonl', failing()));
    };
    // Assess
    await expect(read()).rejects.toThrow(SourceReadError);
    await expect(read()).rejects.toThrow('cannot read input.jsonl: EIO: i/o error');
  });
});
