import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Command, InvalidArgumentError } from 'commander';
import { PipelineError } from '../errors.ts';
import { DEFAULT_STACK_FILE, readStackFile } from '../local/stack-file.ts';
import { parseJson } from '../snapshots/codec.ts';
import { type DiffEntry, diffDocuments } from '../snapshots/diff.ts';
import {
  PIPELINE_CONFIG_SCHEMA_VERSION,
  parsePipelineConfig,
  pipelineConfigParser,
} from '../snapshots/pipeline-config.ts';
import { SnapshotPublisher } from '../snapshots/publisher.ts';
import { parseMatchRules } from '../snapshots/rollout.ts';
import { snapshotSettings } from '../snapshots/settings.ts';
import { DynamoDbSnapshotStore } from '../snapshots/store.ts';
import type { Manifest, Pointer } from '../snapshots/types.ts';
import {
  CliError,
  GrantedTablesUnknownError,
  SourceReadError,
  StackConfigError,
  UsageError,
} from './errors.ts';
import type { CliIo } from './pipeline.ts';

/** A snapshot operation failed; the message is the underlying error's, the code too. */
export class SnapshotCommandError extends CliError {
  readonly code: string;
  override readonly exitCode: number;
  constructor(cause: PipelineError) {
    super(cause.message, { cause });
    this.code = cause.code;
    // A lost race or an unreachable table is worth retrying (1); anything else is bad input (2).
    this.exitCode = cause.retryable ? 1 : 2;
  }
}

/** DynamoDB refused or failed a request (missing table, no credentials, throttling…). */
export class SnapshotStoreRequestError extends CliError {
  readonly code = 'AWS_REQUEST_FAILED';
  override readonly exitCode = 1;
  constructor(tableName: string, cause: Error) {
    super(`DynamoDB table ${tableName}: ${cause.name}: ${cause.message}`, { cause });
  }
}

interface GlobalFlags {
  readonly table?: string;
  readonly stackFile: string;
  readonly name: string;
  readonly grantedTables?: readonly string[];
}

export interface SnapshotCommandDeps {
  /** The DynamoDB client to use. @default the stack file's local endpoint, or the SDK's defaults with `--table` */
  readonly client?: DynamoDBClient;
}

/**
 * `pipeline snapshot …`: publish, inspect, roll out and roll back configuration snapshots.
 *
 * @example
 * program.addCommand(snapshotCommand(io));
 */
export function snapshotCommand(io: CliIo, deps: SnapshotCommandDeps = {}): Command {
  const snapshot = new Command('snapshot')
    .description('Publish and manage configuration snapshots (immutable versions behind an atomic pointer)')
    .option('--table <name>', 'snapshots table (default: tables.snapshots of the stack file)')
    .option('--stack-file <path>', 'local stack file written by `npm run local`', DEFAULT_STACK_FILE)
    .option('--name <name>', 'snapshot name', snapshotSettings.defaultName)
    .option(
      '--granted-tables <names>',
      'comma-separated tables a route may name (the WritePath stack output GrantedTableNames; default: grantedTables of the stack file)',
      tableList,
    );

  const run = (action: (ctx: Ctx, ...args: never[]) => Promise<void>) =>
    async function snapshotAction(this: Command, ...args: unknown[]): Promise<void> {
      const flags = this.optsWithGlobals<GlobalFlags & Record<string, unknown>>();
      const ctx = await context(flags, io, deps);
      try {
        await action(ctx, ...(args as never[]));
      } catch (error) {
        if (error instanceof CliError) throw error;
        if (error instanceof PipelineError) throw new SnapshotCommandError(error);
        // An AWS SDK error: a service exception carries $metadata.
        if (error instanceof Error && '$metadata' in error)
          throw new SnapshotStoreRequestError(ctx.tableName, error);
        throw error;
      } finally {
        if (deps.client === undefined) ctx.client.destroy();
      }
    };

  snapshot
    .command('publish')
    .description('Validate a configuration file and publish it as a new version')
    .argument('<file>', 'JSON configuration document')
    .option('--canary <pct>', 'stage it: serve it to this percentage of callers (0-100)', percentage)
    .option('--match <k=v>', 'stage it only for callers with this attribute (repeatable)', collect, [])
    .option('--source <who>', 'recorded as the version source', 'cli')
    .action(
      run(async (ctx, file: string, flags: { canary?: number; match: string[]; source: string }) => {
        if (flags.match.length > 0 && flags.canary === undefined) {
          throw new UsageError('--match needs --canary <pct>');
        }
        const path = resolve(io.cwd, file);
        const document = parseJson(await readText(path), file);
        const rollout =
          flags.canary === undefined
            ? undefined
            : { percentage: flags.canary, match: parseMatchRules(flags.match) };
        // Refuse rather than publish a routing the batch writer may not be allowed to write.
        if (ctx.grantedTables === undefined) throw new GrantedTablesUnknownError();
        const { manifest, pointer } = await ctx.publisher.publish(ctx.name, document, {
          source: flags.source,
          rollout,
        });
        io.stdout.write(
          `published ${ctx.name} version ${manifest.version} (${formatBytes(manifest.bytes)}, ` +
            `${manifest.chunkCount} chunk${manifest.chunkCount === 1 ? '' : 's'}); ${describePointer(pointer)}\n`,
        );
      }),
    );

  snapshot
    .command('get')
    .description('Print a version (default: the stable one) as JSON')
    .option('--version <v>', 'version number', version)
    .action(
      run(async (ctx, flags: { version?: number }) => {
        const { data } = await ctx.publisher.read(ctx.name, flags.version);
        io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      }),
    );

  snapshot
    .command('list')
    .description('List versions, newest first, with the pointer')
    .action(
      run(async (ctx) => {
        const { pointer, manifests } = await ctx.publisher.list(ctx.name);
        io.stdout.write(`${pointer ? describePointer(pointer) : `${ctx.name}: nothing published`}\n`);
        for (const manifest of manifests) io.stdout.write(`${describeManifest(manifest, pointer)}\n`);
      }),
    );

  snapshot
    .command('diff')
    .description('Show what changed from one version to another')
    .argument('<v1>', 'older version', version)
    .argument('<v2>', 'newer version', version)
    .action(
      run(async (ctx, v1: number, v2: number) => {
        const [before, after] = await Promise.all([
          ctx.publisher.read(ctx.name, v1),
          ctx.publisher.read(ctx.name, v2),
        ]);
        const entries = diffDocuments(before.data, after.data);
        if (entries.length === 0) io.stdout.write(`versions ${v1} and ${v2} are identical\n`);
        for (const entry of entries) io.stdout.write(`${formatDiff(entry)}\n`);
      }),
    );

  snapshot
    .command('promote')
    .description('Move the staged rollout on: to --percentage, or make the candidate stable')
    .option('--percentage <pct>', 'serve the candidate to this percentage instead (0-100)', percentage)
    .action(
      run(async (ctx, flags: { percentage?: number }) => {
        await checkVersion(ctx, (await ctx.publisher.list(ctx.name)).pointer?.candidate?.version);
        const pointer = await ctx.publisher.promote(ctx.name, {
          percentage: flags.percentage,
          source: 'cli',
        });
        io.stdout.write(`promoted: ${describePointer(pointer)}\n`);
      }),
    );

  snapshot
    .command('rollback')
    .description('Serve an earlier version to everyone again (a new pointer generation)')
    .requiredOption('--to <v>', 'version to serve', version)
    .action(
      run(async (ctx, flags: { to: number }) => {
        await checkVersion(ctx, flags.to);
        const pointer = await ctx.publisher.rollback(ctx.name, flags.to, { source: 'cli' });
        io.stdout.write(`rolled back: ${describePointer(pointer)}\n`);
      }),
    );

  snapshot
    .command('prune')
    .description('Delete all but the newest versions (never the stable or candidate one)')
    .requiredOption('--keep <n>', 'versions to keep', count)
    .action(
      run(async (ctx, flags: { keep: number }) => {
        const deleted = await ctx.publisher.prune(ctx.name, flags.keep);
        io.stdout.write(
          deleted.length === 0
            ? 'nothing to prune\n'
            : `deleted version${deleted.length === 1 ? '' : 's'} ${deleted.join(', ')}\n`,
        );
      }),
    );

  return snapshot;
}

/** Adds `snapshot` and its subcommands to the `pipeline` program. */
export function registerSnapshotCommands(
  program: Command,
  io: CliIo,
  deps: SnapshotCommandDeps = {},
): Command {
  return program.addCommand(snapshotCommand(io, deps).exitOverride());
}

interface Ctx {
  readonly name: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly publisher: SnapshotPublisher;
  /** The tables a route may name; `undefined` when neither the flag nor the stack file says. */
  readonly grantedTables: readonly string[] | undefined;
  readonly validate: (document: unknown) => unknown;
}

async function context(flags: GlobalFlags, io: CliIo, deps: SnapshotCommandDeps): Promise<Ctx> {
  const { tableName, client, grantedTables: fromStack } = await target(flags, io, deps);
  const grantedTables = flags.grantedTables ?? fromStack;
  const validate = grantedTables === undefined ? parsePipelineConfig : pipelineConfigParser(grantedTables);
  const store = new DynamoDbSnapshotStore({ client, tableName });
  const publisher = new SnapshotPublisher({
    store,
    validate,
    schemaVersion: PIPELINE_CONFIG_SCHEMA_VERSION,
  });
  return { name: flags.name, tableName, client, publisher, grantedTables, validate };
}

/**
 * Before a pointer moves to an existing version (rollback, promote): checks it against the granted
 * tables when they are known, since the grants may have changed since it was published.
 */
async function checkVersion(ctx: Ctx, version: number | undefined): Promise<void> {
  if (ctx.grantedTables === undefined || version === undefined) return;
  ctx.validate((await ctx.publisher.read(ctx.name, version)).data);
}

async function target(
  flags: GlobalFlags,
  io: CliIo,
  deps: SnapshotCommandDeps,
): Promise<{ tableName: string; client: DynamoDBClient; grantedTables?: readonly string[] }> {
  if (flags.table !== undefined)
    return { tableName: flags.table, client: deps.client ?? new DynamoDBClient({}) };
  const path = resolve(io.cwd, flags.stackFile);
  const stack = await readStackFile(path);
  const tableName = stack.tables.snapshots;
  if (tableName === undefined) {
    throw new StackConfigError(path, 'names no snapshots table (tables.snapshots); pass --table <name>');
  }
  const client =
    deps.client ??
    new DynamoDBClient({
      endpoint: stack.endpoints.dynamodb,
      region: stack.region,
      // Local emulators do not check credentials; these keep the SDK from looking for real ones.
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  return { tableName, client, ...(stack.grantedTables ? { grantedTables: stack.grantedTables } : {}) };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new SourceReadError(path, (cause as NodeJS.ErrnoException).code ?? String(cause), { cause });
  }
}

function describePointer(pointer: Pointer): string {
  const { candidate } = pointer;
  const staged = candidate
    ? `, candidate ${candidate.version} at ${candidate.percentage}%${candidate.match ? ` of ${formatMatch(candidate.match)}` : ''}`
    : '';
  return `${pointer.name}: stable ${pointer.stable}${staged} (generation ${pointer.generation})`;
}

function describeManifest(manifest: Manifest, pointer: Pointer | undefined): string {
  const role =
    manifest.version === pointer?.stable
      ? 'stable'
      : manifest.version === pointer?.candidate?.version
        ? 'candidate'
        : '';
  return [
    String(manifest.version).padStart(6),
    role.padEnd(9),
    manifest.createdAt,
    formatBytes(manifest.bytes).padStart(9),
    `${manifest.chunkCount} chunk${manifest.chunkCount === 1 ? ' ' : 's'}`.padStart(10),
    manifest.sha256.slice(0, 12),
    manifest.source,
  ].join('  ');
}

function formatMatch(match: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(match)
    .map(([k, values]) => `${k}=${values.join('|')}`)
    .join(' & ');
}

function formatDiff(entry: DiffEntry): string {
  switch (entry.kind) {
    case 'added':
      return `+ ${entry.path}: ${short(entry.after)}`;
    case 'removed':
      return `- ${entry.path}: ${short(entry.before)}`;
    case 'changed':
      return `~ ${entry.path}: ${short(entry.before)} → ${short(entry.after)}`;
  }
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function percentage(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) {
    throw new InvalidArgumentError('expected a percentage 0-100');
  }
  return n;
}

function version(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a version number ≥ 1');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

function tableList(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected one or more table names, comma-separated');
  return names;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
