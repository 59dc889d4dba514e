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
    [
      ['publish', 'x.json', '--canary', '10', '--step', '20', '--every', '5x', '--bake', '10m'],
      "option '--every <duration>' argument '5x' is invalid. expected a duration: a whole number and a unit, such as 500ms, 30s, 5m or 1h",
    ],
    [
      ['rollout', 'start', '--step', '20', '--every', '5m', '--bake', '-1m'],
      "option '--bake <duration>' argument '-1m' is invalid. expected a duration",
    ],
    [
      ['rollout', 'start', '--step', 'lots'],
      "option '--step <pct>' argument 'lots' is invalid. expected a number",
    ],
    [
      ['rollout', 'start', '--growth', 'cubic'],
      "option '--growth <kind>' argument 'cubic' is invalid. Allowed choices are linear, exponential.",
    ],
    [
      ['rollout', 'tick', '--alarm-state', 'errors=RED'],
      "option '--alarm-state <name=state>' argument 'errors=RED' is invalid. expected <alarm name>=<state>, the state one of OK, ALARM, INSUFFICIENT_DATA",
    ],
    [['rollout', 'watch', '--interval', 'soon'], "option '--interval <duration>' argument 'soon' is invalid"],
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
