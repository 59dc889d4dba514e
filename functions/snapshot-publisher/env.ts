import { z } from 'zod';
import { parseEnv, parseJsonVariable } from '../../shared/core/env.ts';
import { grantedTablesVariable } from '../../shared/pipeline/snapshot-env.ts';
import { SNAPSHOT_NAME_PATTERN, snapshotSettings } from '../../shared/snapshots/index.ts';

/** The snapshot publisher's environment: the only place its configuration is read. */
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

/** Reads and validates the publisher's environment; throws `ConfigurationError` naming the bad variable. */
export function snapshotPublisherEnv(env: NodeJS.ProcessEnv = process.env): SnapshotPublisherEnv {
  const data = parseEnv(PublisherEnvSchema, env);
  return {
    tableName: data.SNAPSHOTS_TABLE,
    name: data.SNAPSHOT_NAME,
    dlqUrl: data.DLQ_URL,
    maxAttempts: data.MAX_PUBLISH_ATTEMPTS,
    grantedTables: grantedTablesVariable(data.GRANTED_TABLES),
    bootstrap: parseJsonVariable('BOOTSTRAP_CONFIG', data.BOOTSTRAP_CONFIG, z.unknown()),
  };
}
