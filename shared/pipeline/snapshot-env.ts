import { z } from 'zod';
import { ConfigurationError, parseEnv, parseJsonVariable } from '../core/env.ts';
import { SNAPSHOT_NAME_PATTERN, snapshotSettings } from '../snapshots/index.ts';

/** The variables that tell a function where its config snapshot lives, shared by every reader. */

const ReaderEnvSchema = z.object({
  SNAPSHOTS_TABLE: z.string().min(3).optional(),
  SNAPSHOT_NAME: z.string().regex(SNAPSHOT_NAME_PATTERN).default(snapshotSettings.defaultName),
  SNAPSHOT_MAX_AGE_MS: z.coerce.number().int().min(0).default(snapshotSettings.maxAgeMs),
  GRANTED_TABLES: z.string().optional(),
});

/** `GRANTED_TABLES`: a JSON array of the physical table names a route may name. */
const GrantedTablesSchema = z.array(z.string().min(3).max(255));

/** Parses `GRANTED_TABLES`, which readers and the publisher share; throws `ConfigurationError`. */
export function grantedTablesVariable(value: string): readonly string[] {
  return parseJsonVariable('GRANTED_TABLES', value, GrantedTablesSchema);
}

export interface SnapshotReaderEnv {
  readonly tableName: string;
  readonly name: string;
  readonly maxAgeMs: number;
  /** `GRANTED_TABLES`: the only physical tables a route of the snapshot may name. */
  readonly grantedTables: readonly string[];
}

/**
 * Where a reader (e.g. the batch writer) finds its snapshot: `SNAPSHOTS_TABLE`, `SNAPSHOT_NAME`
 * (default `pipeline`), `SNAPSHOT_MAX_AGE_MS` (default 30,000) and `GRANTED_TABLES` (required with
 * `SNAPSHOTS_TABLE`: a reader must know which tables a route may name). `undefined` when
 * `SNAPSHOTS_TABLE` is not set: the caller then runs on its environment's configuration alone.
 */
export function snapshotReaderEnv(env: NodeJS.ProcessEnv = process.env): SnapshotReaderEnv | undefined {
  const data = parseEnv(ReaderEnvSchema, env);
  if (data.SNAPSHOTS_TABLE === undefined) return undefined;
  if (data.GRANTED_TABLES === undefined) {
    throw new ConfigurationError(
      'environment variable GRANTED_TABLES is required with SNAPSHOTS_TABLE: a JSON array of the tables a route may name',
    );
  }
  return {
    tableName: data.SNAPSHOTS_TABLE,
    name: data.SNAPSHOT_NAME,
    maxAgeMs: data.SNAPSHOT_MAX_AGE_MS,
    grantedTables: grantedTablesVariable(data.GRANTED_TABLES),
  };
}
