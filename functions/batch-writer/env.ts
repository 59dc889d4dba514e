import { z } from 'zod';
import { parseEnv, parseJsonVariable } from '../../shared/core/env.ts';
import { type RoutesConfig, RoutesSchema } from '../../shared/pipeline/routing.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import { type SnapshotReaderEnv, snapshotReaderEnv } from '../../shared/pipeline/snapshot-env.ts';

/** The batch writer's environment: the only place its configuration is read. */
const BatchWriterEnvSchema = z.object({
  TABLE_ROUTES: z.string().min(2),
  DLQ_URL: z.string().url(),
  MAX_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(writePathSettings.function.maxConcurrency),
  DEADLINE_MARGIN_MS: z.coerce.number().int().min(0).default(writePathSettings.function.deadlineMarginMs),
});

export interface BatchWriterEnv {
  /** `TABLE_ROUTES`: logical table → physical table and key schema, until a snapshot says otherwise. */
  readonly routes: RoutesConfig;
  readonly dlqUrl: string;
  readonly maxConcurrency: number;
  readonly deadlineMarginMs: number;
  /** Set (`SNAPSHOTS_TABLE`): routing and write options follow the `pipeline` config snapshot. */
  readonly snapshots?: SnapshotReaderEnv;
}

/** Reads and validates the batch writer's environment; throws `ConfigurationError` naming the bad variable. */
export function batchWriterEnv(env: NodeJS.ProcessEnv = process.env): BatchWriterEnv {
  const e = parseEnv(BatchWriterEnvSchema, env);
  const routes = parseJsonVariable('TABLE_ROUTES', e.TABLE_ROUTES, RoutesSchema);
  // The snapshot store's reader variables (SNAPSHOTS_TABLE, SNAPSHOT_NAME, SNAPSHOT_MAX_AGE_MS,
  // GRANTED_TABLES).
  const snapshots = snapshotReaderEnv(env);
  return {
    routes,
    dlqUrl: e.DLQ_URL,
    maxConcurrency: e.MAX_CONCURRENCY,
    deadlineMarginMs: e.DEADLINE_MARGIN_MS,
    ...(snapshots ? { snapshots } : {}),
  };
}
