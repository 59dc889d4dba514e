/**
 * `pipeline snapshot …`: the commander definition of the subcommands (publish, get, list, diff,
 * promote, rollback, prune; `rollout …` and `schema …` in their own files), each run in a fresh
 * context whose errors become `CliError`s.
 */

import { resolve } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_STACK_FILE } from '../../local/resources/stack-file.ts';
import { diffDocuments, parseJson, parseMatchRules, snapshotSettings } from '../../snapshots/index.ts';
import { GrantedTablesUnknownError, UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { readText, type SnapshotAction, snapshotAction } from './action.ts';
import { checkVersion, type SnapshotCommandDeps } from './context.ts';
import { collect, count, percentage, tableList, version } from './flags.ts';
import { describeManifest, describePointer, describeRollout, formatBytes, formatDiff } from './format.ts';
import {
  namingStrategyFlags,
  rolloutCommand,
  type StrategyFlags,
  strategyOf,
  withStrategyFlags,
} from './rollout-command.ts';
import { schemaCommand } from './schema-command.ts';

/**
 * `pipeline snapshot …`: publish, inspect, roll out and roll back configuration snapshots.
 *
 * @example
 * program.addCommand(snapshotCommand(io));
 */
export function snapshotCommand(io: CliIo, deps: SnapshotCommandDeps = {}): Command {
  // Set before the subcommands are defined, so that they inherit it: a bad flag value (`--keep -1`)
  // is then thrown as a CommanderError (exit status 2 in runCli) and printed to io.stderr, instead
  // of commander calling process.exit(1) itself.
  const snapshot = new Command('snapshot')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .description('Publish and manage configuration snapshots (immutable versions behind an atomic pointer)')
    .option('--table <name>', 'snapshots table (default: tables.snapshots of the stack file)')
    .option('--stack-file <path>', 'local stack file written by `npm run local`', DEFAULT_STACK_FILE)
    .option('--name <name>', 'snapshot name', snapshotSettings.defaultName)
    .option(
      '--granted-tables <names>',
      'comma-separated tables a route may name (the WritePath stack output GrantedTableNames; default: grantedTables of the stack file)',
      tableList,
    );

  const run = (action: SnapshotAction) => snapshotAction(io, deps, action);

  type PublishFlags = StrategyFlags & { canary?: number; match: string[]; source: string };
  withStrategyFlags(
    snapshot
      .command('publish')
      .description('Validate a configuration file and publish it as a new version')
      .argument('<file>', 'JSON configuration document')
      .option('--canary <pct>', 'stage it: serve it to this percentage of callers (0-100)', percentage)
      .option('--match <k=v>', 'stage it only for callers with this attribute (repeatable)', collect, [])
      .option('--source <who>', 'recorded as the version source', 'cli'),
  ).action(
    run(async (ctx, file: string, flags: PublishFlags) => {
      if (flags.match.length > 0 && flags.canary === undefined) {
        throw new UsageError('--match needs --canary <pct>');
      }
      const strategy = strategyOf(flags);
      if (strategy && flags.canary === undefined)
        throw new UsageError('an automated rollout needs --canary <pct>');
      const path = resolve(io.cwd, file);
      const document = parseJson(await readText(path), file);
      const rollout =
        flags.canary === undefined
          ? undefined
          : {
              percentage: flags.canary,
              match: parseMatchRules(flags.match),
              ...(strategy ? { strategy } : {}),
            };
      // Refuse rather than publish a routing the batch writer may not be allowed to write.
      if (ctx.grantedTables === undefined) throw new GrantedTablesUnknownError();
      const { manifest, pointer } = await namingStrategyFlags(() =>
        ctx.publisher.publish(ctx.name, document, { source: flags.source, rollout }),
      );
      io.stdout.write(
        `published ${ctx.name} version ${manifest.version} (${formatBytes(manifest.bytes)}, ` +
          `${manifest.chunkCount} chunk${manifest.chunkCount === 1 ? '' : 's'}); ${describePointer(pointer)}\n`,
      );
      for (const line of strategy ? describeRollout(pointer) : []) io.stdout.write(`${line}\n`);
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
        for (const line of pointer ? describeRollout(pointer) : []) io.stdout.write(`${line}\n`);
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

  snapshot.addCommand(rolloutCommand(snapshot, io, deps));
  snapshot.addCommand(schemaCommand(snapshot, io, deps));
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
