import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFilter, ratePerSecond } from '../../../../../shared/cli/dlq/flags.ts';
import { runCli } from '../../../../../shared/cli/pipeline.ts';
import { memoryIo } from '../../../../support/fakes/memory-io.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-dlq-flags-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--filter', () => {
  it('takes ErrorCodes and none, without repeats', () => {
    expect(codeFilter('code=UNKNOWN_TABLE,none,UNKNOWN_TABLE')).toEqual({ codes: ['UNKNOWN_TABLE', 'none'] });
  });

  it.each(['UNKNOWN_TABLE', 'type=X', 'code=', 'code=unknown_table', 'code=A,,B'])('refuses %j', (value) => {
    expect(() => codeFilter(value)).toThrow(/code=|not an ErrorCode/);
  });
});

describe('--rate', () => {
  it.each([
    ['50', 50],
    ['50/s', 50],
    ['0.5', 0.5],
  ])('reads %j as %d messages a second', (value, rate) => {
    expect(ratePerSecond(value)).toBe(rate);
  });

  it.each(['0', '-1', 'fast', '10/m', ''])('refuses %j', (value) => {
    expect(() => ratePerSecond(value)).toThrow('more than 0');
  });
});

describe('pipeline dlq bad input (exit 2, nothing touched)', () => {
  it.each([
    [
      ['redrive', '--rate', '0'],
      "option '--rate <n/s>' argument '0' is invalid. expected messages per second, more than 0",
    ],
    [['redrive', '--filter', 'code=lower'], '"lower" is not an ErrorCode'],
    [['inspect', '--samples', '-1'], 'expected an integer in 0..100'],
    [['inspect'], 'name the dead-letter queue: --queue <dlq-url>, or --dlq <'],
    [['redrive', '--queue', 'not a url'], '--queue not a url is not a queue URL'],
    [['redrive', '--queue', 'http://127.0.0.1:9/1/q', '--dlq', 'ingest'], 'cannot be used with option'],
    [['redrive', '--dlq', 'ingest'], 'npm run local'],
  ])('refuses %j', async (args, message) => {
    // Act
    const io = memoryIo({ cwd: dir });
    const code = await runCli(['dlq', ...args], io);
    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain(message);
    expect(io.out()).toBe('');
  });
});
