import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../shared/cli/io.ts';
import { registerSnapshotCommands } from '../../../shared/cli/snapshot/command.ts';
import { writeStackFile } from '../../../shared/local/resources/stack-file.ts';
import { type SnapshotFixture, snapshotFixture } from './support.ts';

const config = (tableName: string) => ({
  routing: { items: { tableName, partitionKey: 'pk', sortKey: 'sk' } },
});

/** The CLI run in `dir`, with no stack file there: table and granted tables only from flags. */
function bareProgram(dir: string): Command {
  const io: CliIo = {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    cwd: dir,
  };
  const program = new Command('pipeline').exitOverride();
  registerSnapshotCommands(program, io);
  return program;
}

describe('pipeline snapshot CLI', () => {
  let fx: SnapshotFixture;
  let dir: string;

  beforeAll(async () => {
    fx = await snapshotFixture();
    dir = await mkdtemp(join(tmpdir(), 'snapshot-cli-'));
    await writeFile(join(dir, 'v1.json'), JSON.stringify(config('items-v1')));
    await writeFile(join(dir, 'v2.json'), JSON.stringify(config('items-v2')));
    await writeFile(join(dir, 'broken.json'), '{"routing": ');
    await writeFile(join(dir, 'invalid.json'), JSON.stringify(config('x')));
    await writeFile(
      join(dir, 'orders.json'),
      JSON.stringify({
        routing: { ...config('items-v1').routing, orders: { tableName: 'orders-table', partitionKey: 'pk' } },
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await fx.dispose();
  });

  /** Runs `pipeline snapshot <args>` in-process; resolves with stdout, rejects with the command's error. */
  async function cli(name: string, ...args: string[]): Promise<string> {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const io: CliIo = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), cwd: dir };
    const program = new Command('pipeline').exitOverride().configureOutput({ writeErr: () => undefined });
    registerSnapshotCommands(program, io);
    await program.parseAsync(
      ['snapshot', '--table', fx.tableName, '--name', name, '--granted-tables', 'items-v1,items-v2', ...args],
      { from: 'user' },
    );
    return text;
  }

  it('publishes a file and prints it back with defaults filled in', async () => {
    // Act
    const published = await cli('cli-get', 'publish', 'v1.json');
    const printed = JSON.parse(await cli('cli-get', 'get'));
    // Assess
    expect(published).toMatch(/^published cli-get version 1 .*stable 1 \(generation 1\)/);
    expect(printed).toMatchObject({ routing: { items: { tableName: 'items-v1', ops: ['put', 'delete'] } } });
  });

  it('stages a canary, lists it, diffs it, promotes it, rolls back and prunes', async () => {
    // Prepare
    await cli('cli-flow', 'publish', 'v1.json');
    // Act
    const canary = await cli('cli-flow', 'publish', 'v2.json', '--canary', '10', '--match', 'region=eu');
    const list = await cli('cli-flow', 'list');
    const diff = await cli('cli-flow', 'diff', '1', '2');
    const promoted = await cli('cli-flow', 'promote');
    const rolledBack = await cli('cli-flow', 'rollback', '--to', '1');
    const pruned = await cli('cli-flow', 'prune', '--keep', '0');
    // Assess
    expect(canary).toMatch(/candidate 2 at 10% of region=eu/);
    expect(list.split('\n')[0]).toBe('cli-flow: stable 1, candidate 2 at 10% of region=eu (generation 2)');
    expect(list).toMatch(/^ {5}2 {2}candidate/m);
    expect(diff).toBe('~ routing.items.tableName: "items-v1" → "items-v2"\n');
    expect(promoted).toBe('promoted: cli-flow: stable 2 (generation 3)\n');
    expect(rolledBack).toBe('rolled back: cli-flow: stable 1 (generation 4)\n');
    expect(pruned).toBe('deleted version 2\n');
  });

  it.each([
    ['bad JSON', ['publish', 'broken.json'], 'INVALID_JSON', /broken\.json is not valid JSON/],
    [
      'a schema violation',
      ['publish', 'invalid.json'],
      'INVALID_SNAPSHOT_DOCUMENT',
      /^routing\.items\.tableName:/,
    ],
    ['an unknown version', ['get', '--version', '99'], 'SNAPSHOT_VERSION_NOT_FOUND', /has no version 99/],
    [
      'a rollback to an unknown version',
      ['rollback', '--to', '42'],
      'SNAPSHOT_VERSION_NOT_FOUND',
      /no version 42/,
    ],
    ['a missing file', ['publish', 'nope.json'], 'SOURCE_UNREADABLE', /nope\.json: ENOENT/],
    [
      'a route to a table the pipeline may not write',
      ['publish', 'orders.json'],
      'ROUTE_NOT_GRANTED',
      /^routing\.orders\.tableName: table "orders-table" is not one the pipeline may write/,
    ],
    ['--match without --canary', ['publish', 'v1.json', '--match', 'a=b'], 'USAGE', /--match needs --canary/],
  ])('reports %s clearly and publishes nothing', async (_, args, code, message) => {
    // Prepare
    await cli('cli-errors', 'publish', 'v1.json').catch(() => undefined);
    const before = await fx.store.getPointer('cli-errors');
    // Act
    const run = cli('cli-errors', ...args);
    // Assess
    await expect(run).rejects.toMatchObject({ code, exitCode: 2, message: expect.stringMatching(message) });
    expect(await fx.store.getPointer('cli-errors')).toEqual(before);
  });

  it.each(['-1', '1.5', 'all'])(
    'refuses prune --keep %s as a bad --keep flag, deleting nothing',
    async (keep) => {
      // Prepare
      await cli('cli-keep', 'publish', 'v1.json').catch(() => undefined);
      await cli('cli-keep', 'publish', 'v2.json');
      const before = await fx.store.listManifests('cli-keep');
      // Act
      const run = cli('cli-keep', 'prune', '--keep', keep);
      // Assess
      await expect(run).rejects.toMatchObject({
        code: 'commander.invalidArgument',
        message: expect.stringMatching(/'--keep <n>' argument '.+' is invalid\. expected a whole number ≥ 0/),
      });
      expect(await fx.store.listManifests('cli-keep')).toEqual(before);
    },
  );

  it('refuses to publish when neither --granted-tables nor the stack file says which tables a route may name', async () => {
    // Prepare
    const program = bareProgram(dir);
    // Act
    const run = program.parseAsync(
      ['snapshot', '--table', fx.tableName, '--name', 'cli-ungranted', 'publish', 'v1.json'],
      {
        from: 'user',
      },
    );
    // Assess
    await expect(run).rejects.toMatchObject({
      code: 'GRANTED_TABLES_UNKNOWN',
      exitCode: 2,
      message: expect.stringMatching(/pass --granted-tables/),
    });
    expect(await fx.store.getPointer('cli-ungranted')).toBeUndefined();
  });

  it('reports a missing table as a failed request, with exit status 1', async () => {
    // Prepare
    const program = bareProgram(dir);
    // Act
    const run = program.parseAsync(['snapshot', '--table', 'no-such-table', 'list'], { from: 'user' });
    // Assess
    await expect(run).rejects.toMatchObject({
      code: 'AWS_REQUEST_FAILED',
      exitCode: 1,
      message: expect.stringMatching(/^DynamoDB table no-such-table: ResourceNotFoundException/),
    });
  });

  it('finds the table in the local stack file when --table is not given', async () => {
    // Prepare
    await writeStackFile(
      {
        region: process.env.AWS_REGION ?? 'us-east-1',
        endpoints: {
          dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
          sqs: process.env.AWS_ENDPOINT_URL_SQS!,
        },
        queues: {},
        tables: { snapshots: fx.tableName },
        grantedTables: ['items-v1'],
      },
      join(dir, '.local', 'stack.json'),
    );
    await cli('cli-stack', 'publish', 'v1.json');
    const io: CliIo = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      stdin: new PassThrough(),
      cwd: dir,
    };
    let out = '';
    io.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const program = new Command('pipeline').exitOverride();
    registerSnapshotCommands(program, io);
    // Act
    await program.parseAsync(['snapshot', '--name', 'cli-stack', 'list'], { from: 'user' });
    // Assess
    expect(out.split('\n')[0]).toBe('cli-stack: stable 1 (generation 1)');
  });
});
