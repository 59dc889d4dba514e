/**
 * `pipeline snapshot schema …`: the JSON Schema a snapshot name's documents must satisfy at publish
 * (the CLI and the config-changes Lambda both check it), stored beside its versions.
 */

import { resolve } from 'node:path';
import { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { readText, snapshotAction } from './action.ts';
import type { SnapshotCommandDeps, SnapshotContext } from './context.ts';
import { formatBytes } from './format.ts';

/** `schema` and its subcommands, with `parent`'s settings (exit override, output). */
export function schemaCommand(parent: Command, io: CliIo, deps: SnapshotCommandDeps): Command {
  const run = (action: (ctx: SnapshotContext, ...args: never[]) => Promise<void>) =>
    snapshotAction(io, deps, action);
  const schema = new Command('schema')
    .copyInheritedSettings(parent)
    .description(
      "The JSON Schema (draft 2020-12 or draft-07) every publish of the name's documents is checked against",
    );

  schema
    .command('set')
    .description('Check a JSON Schema and store it for the snapshot name (replacing any)')
    .argument('<file>', 'JSON Schema document')
    .action(
      run(async (ctx, file: string) => {
        const text = await readText(resolve(ctx.cwd, file));
        const record = await ctx.publisher.schemas.set(ctx.name, text, { source: 'cli' });
        io.stdout.write(
          `schema set for ${ctx.name} (${formatBytes(Buffer.byteLength(text))}, sha256 ${record.sha256.slice(0, 12)}); ` +
            'publishes from now on are checked against it\n',
        );
      }),
    );

  schema
    .command('get')
    .description('Print the stored JSON Schema')
    .action(
      run(async (ctx) => {
        const record = await ctx.publisher.schemas.get(ctx.name);
        io.stdout.write(
          record === undefined ? `${ctx.name}: no schema set\n` : `${record.schema.trimEnd()}\n`,
        );
      }),
    );

  schema
    .command('delete')
    .description('Remove the JSON Schema: publishes are no longer checked against one')
    .action(
      run(async (ctx) => {
        const removed = await ctx.publisher.schemas.delete(ctx.name);
        io.stdout.write(removed ? `schema of ${ctx.name} deleted\n` : `${ctx.name}: no schema set\n`);
      }),
    );
  return schema;
}
