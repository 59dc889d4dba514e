/**
 * How every `pipeline snapshot` subcommand runs: in a fresh context (table, client, publisher),
 * with the library's errors turned into `CliError`s and the client destroyed afterwards.
 */

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PipelineError } from '../../core/errors.ts';
import { CliError, SnapshotCommandError, SnapshotStoreRequestError, SourceReadError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { type SnapshotCommandDeps, type SnapshotContext, snapshotContext } from './context.ts';
import type { SnapshotFlags } from './flags.ts';

/** A subcommand's action: its context first, then commander's arguments and flags. */
export type SnapshotAction = (ctx: SnapshotContext, ...args: never[]) => Promise<void>;

/** Wraps `action` for commander: builds the context from the flags of every level and maps errors. */
export function snapshotAction(io: CliIo, deps: SnapshotCommandDeps, action: SnapshotAction) {
  return async function runSnapshotAction(this: Command, ...args: unknown[]): Promise<void> {
    const flags = this.optsWithGlobals<SnapshotFlags & Record<string, unknown>>();
    const ctx = await snapshotContext(flags, io, deps);
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
}

/** Reads a file the command was given; a missing or unreadable one is `SourceReadError` (exit 2). */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new SourceReadError(path, (cause as NodeJS.ErrnoException).code ?? String(cause), { cause });
  }
}
