/**
 * `pipeline snapshot …` as an operator runs it against a deployment: the table and the granted
 * tables from the stack outputs (`--table`, `--granted-tables`), the SDK's configuration from the
 * environment. Run in-process through the CLI's own `runCli` with captured streams.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../../shared/cli/pipeline.ts';
import type { WritePathTarget } from './target.ts';

/** What one CLI run printed, and its exit status. */
export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The snapshot CLI bound to one deployment, with a scratch directory for the documents it publishes. */
export interface SnapshotCli extends AsyncDisposable {
  /** Runs `pipeline snapshot --table … --granted-tables … <args>`. */
  run(...args: string[]): Promise<CliRun>;
  /** Writes `document` as JSON into the scratch directory; resolves with the file's name there. */
  writeDocument(name: string, document: unknown): Promise<string>;
  /** The stable document (`snapshot get`), or `undefined` when nothing has been published yet. */
  stableDocument(): Promise<Record<string, unknown> | undefined>;
}

/**
 * @example
 * await using cli = await snapshotCli(target.writePath);
 * const { exitCode, stderr } = await cli.run('publish', await cli.writeDocument('doc.json', document));
 */
export async function snapshotCli(writePath: WritePathTarget): Promise<SnapshotCli> {
  const dir = await mkdtemp(join(tmpdir(), 'e2e-snapshot-cli-'));
  const run = async (...args: string[]): Promise<CliRun> => {
    const stdout = capture();
    const stderr = capture();
    const exitCode = await runCli(
      [
        'snapshot',
        '--table',
        writePath.snapshotsTableName,
        '--granted-tables',
        writePath.grantedTableNames.join(','),
        ...args,
      ],
      { stdout: stdout.stream, stderr: stderr.stream, stdin: new PassThrough(), cwd: dir },
    );
    return { exitCode, stdout: stdout.text(), stderr: stderr.text() };
  };
  return {
    run,
    async writeDocument(name, document) {
      await writeFile(join(dir, name), JSON.stringify(document));
      return name;
    },
    async stableDocument() {
      const got = await run('get');
      if (got.exitCode === 0) return JSON.parse(got.stdout) as Record<string, unknown>;
      if (/has never been published/.test(got.stderr)) return undefined;
      throw new Error(`pipeline snapshot get exited ${got.exitCode}: ${got.stderr}`);
    },
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function capture(): { readonly stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}
