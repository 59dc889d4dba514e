import { z } from 'zod';
import { ConfigurationError, parseEnv, parseJsonVariable } from '../core/env.ts';
import { SNAPSHOT_NAME_PATTERN, snapshotSettings } from '../snapshots/index.ts';

/** Reads the snapshot variables of `process.env` (the only other place that does, beside shared/env.ts). */

const ReaderEnvSchema = z.object({
  SNAPSHOTS_TABLE: z.string().min(3).optional(),
  SNAPSHOT_NAME: z.string().regex(SNAPSHOT_NAME_PATTERN).default(snapshotSettings.defaultName),
  SNAPSHOT_MAX_AGE_MS: z.coerce.number().int().min(0).default(snapshotSettings.maxAgeMs),
  GRANTED_TABLES: z.string().optional(),
});

const PublisherEnvSchema = z.object({
  SNAPSHOTS_TABLE: z.string().min(3),
  SNAPSHOT_NAME: z.string().regex(SNAPSHOT_NAME_PATTERN).default(snapshotSettings.defaultName),
  DLQ_URL: z.url(),
  MAX_PUBLISH_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(20)
    .default(snapshotSettings.publisher.maxAttempts),
  GRANTED_TABLES: z.string(),
  BOOTSTRAP_CONFIG: z.string(),
});

/** `GRANTED_TABLES`: a JSON array of the physical table names a route may name. */
const GrantedTablesSchema = z.array(z.string().min(3).max(255));

export interface SnapshotReaderEnv {
  readonly tableName: string;
  readonly name: string;
  readonly maxAgeMs: number;
  /** `GRANTED_TABLES`: the only physical tables a route of the snapshot may name. */
  readonly grantedTables: readonly string[];
}

export interface SnapshotPublisherEnv {
  readonly tableName: string;
  readonly name: string;
  readonly dlqUrl: string;
  readonly maxAttempts: number;
  /** `GRANTED_TABLES`: a change that routes to any other table is refused (`ROUTE_NOT_GRANTED`). */
  readonly grantedTables: readonly string[];
  /**
   * `BOOTSTRAP_CONFIG`: the document the functions run with before anything is published; the first
   * version applies its changes to it. Unparsed here: the caller validates it.
   */
  readonly bootstrap: unknown;
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
    grantedTables: parseJsonVariable('GRANTED_TABLES', data.GRANTED_TABLES, GrantedTablesSchema),
  };
}

/** The snapshot publisher Lambda's environment; throws `ConfigurationError` naming the bad variable. */
export function snapshotPublisherEnv(env: NodeJS.ProcessEnv = process.env): SnapshotPublisherEnv {
  const data = parseEnv(PublisherEnvSchema, env);
  return {
    tableName: data.SNAPSHOTS_TABLE,
    name: data.SNAPSHOT_NAME,
    dlqUrl: data.DLQ_URL,
    maxAttempts: data.MAX_PUBLISH_ATTEMPTS,
    grantedTables: parseJsonVariable('GRANTED_TABLES', data.GRANTED_TABLES, GrantedTablesSchema),
    bootstrap: parseJsonVariable('BOOTSTRAP_CONFIG', data.BOOTSTRAP_CONFIG, z.unknown()),
  };
}
