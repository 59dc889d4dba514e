import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../../../shared/cli/pipeline.ts';
import { memoryIo } from '../../../../support/fakes/memory-io.ts';

// A bad flag value is refused while the flags are parsed: nothing here reaches DynamoDB.
describe('pipeline snapshot flags', () => {
  it.each([
    [['prune', '--keep', '-1'], "option '--keep <n>' argument '-1' is invalid. expected a whole number ≥ 0"],
    [
      ['prune', '--keep', 'all'],
      "option '--keep <n>' argument 'all' is invalid. expected a whole number ≥ 0",
    ],
    [['promote', '--percentage', '101'], "option '--percentage <pct>' argument '101' is invalid"],
  ])('refuses %j as bad input (exit status 2), naming the flag', async (args, message) => {
    // Prepare
    const io = memoryIo({ cwd: tmpdir() });
    // Act
    const status = await runCli(['snapshot', '--table', 'snapshots', ...args], io);
    // Assess
    expect(status).toBe(2);
    expect(io.err()).toContain(`error: ${message}`);
  });
});
