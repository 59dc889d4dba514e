/**
 * What every `pipeline snapshot` subcommand works on: the snapshots table and its client (from
 * `--table` or the stack file), the tables a route may name, and a publisher over them.
 */

import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localClientConfig } from '../../local/aws/client-config.ts';
import { readStackFile } from '../../local/resources/stack-file.ts';
import {
  PIPELINE_CONFIG_SCHEMA_VERSION,
  parsePipelineConfig,
  pipelineConfigParser,
} from '../../pipeline/config.ts';
import { DynamoDbSnapshotStore, SnapshotPublisher } from '../../snapshots/index.ts';
import { StackConfigError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { SnapshotFlags } from './flags.ts';

export interface SnapshotCommandDeps {
  /** The DynamoDB client to use. @default the stack file's local endpoint, or the SDK's defaults with `--table` */
  readonly client?: DynamoDBClient;
  /** The time, for pointer stamps and rollout steps. @default () => new Date() */
  readonly clock?: () => Date;
  /** How `rollout watch` waits between ticks; resolves early when `signal` aborts. @default a timer */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface SnapshotContext {
  readonly name: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly publisher: SnapshotPublisher;
  /** The tables a route may name; `undefined` when neither the flag nor the stack file says. */
  readonly grantedTables: readonly string[] | undefined;
  readonly validate: (document: unknown) => unknown;
  readonly clock: () => Date;
  /** Relative paths given to the command resolve against it. */
  readonly cwd: string;
}

/** The context of one subcommand run; the caller destroys `client` unless `deps` supplied it. */
export async function snapshotContext(
  flags: SnapshotFlags,
  io: CliIo,
  deps: SnapshotCommandDeps,
): Promise<SnapshotContext> {
  const { tableName, client, grantedTables: fromStack } = await target(flags, io, deps);
  const grantedTables = flags.grantedTables ?? fromStack;
  const validate = grantedTables === undefined ? parsePipelineConfig : pipelineConfigParser(grantedTables);
  const store = new DynamoDbSnapshotStore({ client, tableName });
  const clock = deps.clock ?? (() => new Date());
  const publisher = new SnapshotPublisher({
    store,
    validate,
    schemaVersion: PIPELINE_CONFIG_SCHEMA_VERSION,
    clock,
  });
  return {
    name: flags.name,
    tableName,
    client,
    publisher,
    grantedTables,
    validate,
    clock,
    cwd: io.cwd,
  };
}

/**
 * Before a pointer moves to an existing version (rollback, promote): checks it against the granted
 * tables when they are known, since the grants may have changed since it was published.
 */
export async function checkVersion(ctx: SnapshotContext, version: number | undefined): Promise<void> {
  if (ctx.grantedTables === undefined || version === undefined) return;
  ctx.validate((await ctx.publisher.read(ctx.name, version)).data);
}

async function target(
  flags: SnapshotFlags,
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
  const client = deps.client ?? new DynamoDBClient(localClientConfig(stack.endpoints.dynamodb, stack.region));
  return { tableName, client, ...(stack.grantedTables ? { grantedTables: stack.grantedTables } : {}) };
}
