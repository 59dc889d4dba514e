import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../shared/cli/io.ts';
import { registerSnapshotCommands } from '../../../shared/cli/snapshot/command.ts';
import { type FakeCloudWatch, startFakeCloudWatch } from '../../support/fakes/cloudwatch-alarms.ts';
import { type SnapshotFixture, snapshotFixture } from './support.ts';

const START = Date.parse('2026-12-01T10:00:00.000Z');
const MINUTE = 60_000;
const config = (tableName: string) => ({
  routing: { items: { tableName, partitionKey: 'pk', sortKey: 'sk' } },
});
const AUTOMATED = ['--canary', '10', '--step', '20', '--every', '5m', '--bake', '10m', '--alarm', 'errors'];

describe('pipeline snapshot rollout and schema', () => {
  let fx: SnapshotFixture;
  let cloudWatch: FakeCloudWatch;
  let dir: string;
  let now = START;
  /** What `rollout watch` sleeps through: the fake clock moves on instead; `onSleep` may act between ticks. */
  let onSleep: (ticks: number) => Promise<void> = async () => {};
  let sleeps = 0;

  beforeAll(async () => {
    fx = await snapshotFixture();
    cloudWatch = await startFakeCloudWatch();
    process.env.AWS_ENDPOINT_URL_CLOUDWATCH = cloudWatch.url;
    dir = await mkdtemp(join(tmpdir(), 'rollout-cli-'));
    await writeFile(join(dir, 'v1.json'), JSON.stringify(config('items-v1')));
    await writeFile(join(dir, 'v2.json'), JSON.stringify(config('items-v2')));
    await writeFile(
      join(dir, 'schema.json'),
      JSON.stringify({
        type: 'object',
        properties: { routing: { type: 'object', required: ['items', 'orders'] } },
      }),
    );
    await writeFile(join(dir, 'bad-schema.json'), JSON.stringify({ type: 'object', requierd: ['routing'] }));
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_CLOUDWATCH;
    await cloudWatch.close();
    await rm(dir, { recursive: true, force: true });
    await fx.dispose();
  });

  /** Runs `pipeline snapshot <args>` in-process at the fake time; resolves with stdout, rejects with the command's error. */
  async function cli(name: string, ...args: string[]): Promise<string> {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const io: CliIo = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), cwd: dir };
    const program = new Command('pipeline').exitOverride().configureOutput({ writeErr: () => undefined });
    registerSnapshotCommands(program, io, {
      clock: () => new Date(now),
      sleep: async (ms) => {
        now += ms;
        await onSleep(++sleeps);
      },
    });
    await program.parseAsync(
      ['snapshot', '--table', fx.tableName, '--name', name, '--granted-tables', 'items-v1,items-v2', ...args],
      { from: 'user' },
    );
    return text;
  }

  async function automated(name: string): Promise<string> {
    now = START;
    await cli(name, 'publish', 'v1.json');
    return cli(name, 'publish', 'v2.json', ...AUTOMATED);
  }

  it('publishes an automated candidate, steps it with tick, and rolls it back when the alarm is in ALARM', async () => {
    // Act
    const published = await automated('cli-tick');
    const status = await cli('cli-tick', 'rollout', 'status');
    now += 5 * MINUTE;
    const stepped = await cli('cli-tick', 'rollout', 'tick', '--alarm-state', 'errors=OK');
    now += MINUTE;
    const rolledBack = await cli('cli-tick', 'rollout', 'tick', '--alarm-state', 'errors=ALARM');
    const list = await cli('cli-tick', 'list');
    // Assess
    expect(published.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(
        /^published cli-tick version 2 .*; cli-tick: stable 1, candidate 2 at 10% \(generation 2\)$/,
      ),
      'rollout: stepping at 10%, linear +20% every 5m, bake 10m, alarms errors; started 2026-12-01T10:00:00.000Z, ' +
        'next step at 2026-12-01T10:05:00.000Z if every alarm stays clear',
    ]);
    expect(status).toBe(
      `cli-tick: stable 1, candidate 2 at 10% (generation 2)\n${published.split('\n')[1]}\n`,
    );
    expect(stepped).toBe('cli-tick: candidate at 30% (was 10%; generation 3)\n');
    expect(rolledBack).toBe(
      'cli-tick: candidate 2 rolled back (alarm errors in ALARM): stable 1 (generation 4)\n',
    );
    expect(list.split('\n').slice(0, 2)).toEqual([
      'cli-tick: stable 1 (generation 4)',
      'last rollout: version 2 rolled-back at 30% (alarm errors in ALARM) at 2026-12-01T10:06:00.000Z by cli:rollout-controller',
    ]);
  });

  it('reads the alarm from CloudWatch with --cloudwatch, asking for exactly the named alarm', async () => {
    // Prepare
    await automated('cli-cloudwatch');
    cloudWatch.alarms.set('errors', 'OK');
    cloudWatch.requests.length = 0;
    now += 5 * MINUTE;
    // Act
    const stepped = await cli('cli-cloudwatch', 'rollout', 'tick', '--cloudwatch');
    cloudWatch.alarms.set('errors', 'ALARM');
    now += MINUTE;
    const rolledBack = await cli('cli-cloudwatch', 'rollout', 'tick', '--cloudwatch');
    // Assess
    expect(stepped).toBe('cli-cloudwatch: candidate at 30% (was 10%; generation 3)\n');
    expect(rolledBack).toMatch(/^cli-cloudwatch: candidate 2 rolled back \(alarm errors in ALARM\)/);
    expect(cloudWatch.requests).toEqual([
      { AlarmNames: ['errors'], MaxRecords: 100 },
      { AlarmNames: ['errors'], MaxRecords: 100 },
    ]);
  });

  it('refuses --cloudwatch together with given alarm states', async () => {
    // Act
    const tick = cli('cli-cloudwatch', 'rollout', 'tick', '--cloudwatch', '--alarm-state', 'errors=OK');
    // Assess
    await expect(tick).rejects.toMatchObject({
      code: 'USAGE',
      exitCode: 2,
      message: expect.stringMatching(/leave out --alarm-state/),
    });
  });

  it('automates a candidate staged by hand from its percentage, and stops again', async () => {
    // Prepare
    now = START;
    await cli('cli-start', 'publish', 'v1.json');
    await cli('cli-start', 'publish', 'v2.json', '--canary', '25');
    now += MINUTE;
    // Act
    const started = await cli(
      'cli-start',
      'rollout',
      'start',
      '--step',
      '50',
      '--every',
      '2m',
      '--bake',
      '0s',
      '--growth',
      'exponential',
    );
    const stopped = await cli('cli-start', 'rollout', 'stop');
    const status = await cli('cli-start', 'rollout', 'status');
    // Assess
    expect(started).toBe(
      'automated: cli-start: stable 1, candidate 2 at 25% (generation 3)\n' +
        'rollout: stepping at 25%, exponential ×1.5 every 2m, bake 0s, no alarms; started 2026-12-01T10:01:00.000Z, ' +
        'next step at 2026-12-01T10:03:00.000Z if every alarm stays clear\n',
    );
    expect(stopped).toBe('stopped: cli-start: stable 1, candidate 2 at 25% (generation 4)\n');
    expect(status).toBe('cli-start: stable 1, candidate 2 at 25% (generation 4)\n');
  });

  it('refuses to start a rollout without a candidate, and reports an unknown snapshot', async () => {
    // Prepare
    await cli('cli-no-candidate', 'publish', 'v1.json');
    // Act
    const start = cli(
      'cli-no-candidate',
      'rollout',
      'start',
      '--step',
      '20',
      '--every',
      '5m',
      '--bake',
      '10m',
    );
    const status = cli('cli-never-published', 'rollout', 'status');
    // Both settle before either is asserted, so neither rejection goes unhandled meanwhile.
    const [started, reported] = await Promise.allSettled([start, status]);
    // Assess
    expect(started).toMatchObject({
      status: 'rejected',
      reason: {
        code: 'INVALID_ROLLOUT',
        exitCode: 2,
        message: expect.stringMatching(/has no candidate to roll out/),
      },
    });
    expect(reported).toMatchObject({
      status: 'rejected',
      reason: { code: 'SNAPSHOT_NOT_FOUND', exitCode: 2 },
    });
  });

  it('holds a tick whose alarm has no state given, saying so', async () => {
    // Prepare
    await automated('cli-unknown');
    now += 5 * MINUTE;
    // Act
    const held = await cli('cli-unknown', 'rollout', 'tick');
    // Assess
    expect(held).toMatch(
      /^cli-unknown: holding, alarms unknown since 2026-12-01T10:05:00.000Z \(errors: no state given .*\); rolls back at 2026-12-01T10:10:00.000Z\n$/,
    );
    expect((await fx.store.getPointer('cli-unknown'))?.candidate?.percentage).toBe(10);
  });

  it('watches a rollout to its promotion, printing each move once', async () => {
    // Prepare
    await automated('cli-watch');
    await writeFile(join(dir, 'alarms-ok.json'), JSON.stringify({ errors: 'OK' }));
    // Act
    const out = await cli(
      'cli-watch',
      'rollout',
      'watch',
      '--interval',
      '1m',
      '--alarm-states',
      'alarms-ok.json',
    );
    // Assess
    const lines = out.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('candidate at')).map((l) => l.replace(/ \(.*/, ''))).toEqual([
      'cli-watch: candidate at 30%',
      'cli-watch: candidate at 50%',
      'cli-watch: candidate at 70%',
      'cli-watch: candidate at 90%',
      'cli-watch: candidate at 100%',
    ]);
    expect(lines.at(-1)).toBe('cli-watch: candidate 2 promoted after its bake: stable 2 (generation 8)');
    expect(new Date(now).toISOString()).toBe('2026-12-01T10:35:00.000Z');
  });

  it('stops watching with exit status 1 when the alarm file says ALARM mid-rollout', async () => {
    // Prepare: the alarm goes into ALARM after the 12th minute.
    await automated('cli-watch-alarm');
    const file = join(dir, 'alarms-flip.json');
    await writeFile(file, JSON.stringify({ errors: 'OK' }));
    sleeps = 0;
    onSleep = async (ticks) => {
      if (ticks === 12) await writeFile(file, JSON.stringify({ errors: 'ALARM' }));
    };
    // Act
    const watch = cli(
      'cli-watch-alarm',
      'rollout',
      'watch',
      '--interval',
      '1m',
      '--alarm-states',
      'alarms-flip.json',
    );
    // Assess
    await expect(watch).rejects.toMatchObject({
      code: 'ROLLED_BACK',
      exitCode: 1,
      message: 'cli-watch-alarm: candidate 2 rolled back (alarm errors in ALARM): stable 1 (generation 5)',
    });
    onSleep = async () => {};
  });

  it.each([
    [
      'steps under a minute apart',
      ['--canary', '10', '--step', '20', '--every', '30s', '--bake', '0s'],
      'INVALID_ROLLOUT_STRATEGY',
      /^--every: rollout strategy everyMs: got 30000; use a whole number of milliseconds from 60000 \(1m\)/,
    ],
    [
      'a step of 0',
      ['--canary', '10', '--step', '0', '--every', '1m', '--bake', '0s'],
      'INVALID_ROLLOUT_STRATEGY',
      /^--step: rollout strategy stepPercent: got 0;/,
    ],
    [
      'an alarm ARN',
      [...AUTOMATED.slice(0, 8), '--alarm', 'arn:aws:cloudwatch:eu-west-1:1:alarm:Errors'],
      'INVALID_ROLLOUT_STRATEGY',
      /^--alarm: rollout strategy alarms\[0\]: .* pass the alarm's name \("Errors"\)/,
    ],
    [
      'a strategy without --bake',
      ['--canary', '10', '--step', '20', '--every', '5m'],
      'USAGE',
      /needs --bake too/,
    ],
    [
      'a strategy without --canary',
      ['--step', '20', '--every', '5m', '--bake', '1m'],
      'USAGE',
      /needs --canary/,
    ],
    [
      'a strategy with --match',
      [...AUTOMATED, '--match', 'region=eu'],
      'INVALID_ROLLOUT_STRATEGY',
      /^--match: .*drop the match rules/,
    ],
  ])('refuses %s with exit status 2 and publishes nothing', async (_, flags, code, message) => {
    // Prepare
    now = START;
    await cli('cli-bad', 'publish', 'v1.json').catch(() => undefined);
    const before = await fx.store.listManifests('cli-bad');
    // Act
    const publish = cli('cli-bad', 'publish', 'v2.json', ...flags);
    // Assess
    await expect(publish).rejects.toMatchObject({
      code,
      exitCode: 2,
      message: expect.stringMatching(message),
    });
    expect(await fx.store.listManifests('cli-bad')).toEqual(before);
  });

  it('sets a JSON Schema, refuses a publish that breaks it naming the JSON pointer, and removes it', async () => {
    // Prepare
    await cli('cli-schema', 'publish', 'v1.json');
    // Act
    const set = await cli('cli-schema', 'schema', 'set', 'schema.json');
    const printed = await cli('cli-schema', 'schema', 'get');
    const refused = cli('cli-schema', 'publish', 'v2.json');
    await expect(refused).rejects.toMatchObject({
      code: 'INVALID_SNAPSHOT_DOCUMENT',
      exitCode: 2,
      message: expect.stringMatching(
        /^\/routing\/orders: is required \(JSON Schema of snapshot "cli-schema"\)$/,
      ),
    });
    const deleted = await cli('cli-schema', 'schema', 'delete');
    const published = await cli('cli-schema', 'publish', 'v2.json');
    // Assess
    expect(set).toMatch(/^schema set for cli-schema \(\d+ B, sha256 [0-9a-f]{12}\); publishes from now on/);
    expect(JSON.parse(printed)).toMatchObject({ properties: { routing: { required: ['items', 'orders'] } } });
    expect(deleted).toBe('schema of cli-schema deleted\n');
    expect(published).toMatch(/^published cli-schema version 2 /);
  });

  it('refuses a schema with an unknown keyword, storing nothing', async () => {
    // Act
    const set = cli('cli-bad-schema', 'schema', 'set', 'bad-schema.json');
    // Assess
    await expect(set).rejects.toMatchObject({
      code: 'INVALID_DOCUMENT_SCHEMA',
      exitCode: 2,
      message: expect.stringMatching(/unknown keyword: "requierd"/),
    });
    expect(await cli('cli-bad-schema', 'schema', 'get')).toBe('cli-bad-schema: no schema set\n');
  });
});
