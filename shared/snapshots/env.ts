import { z } from 'zod';
import { parseEnv } from '../env.ts';
import { SNAPSHOT_NAME_PATTERN, snapshotSettings } from './settings.ts';

/** Reads the snapshot variables of `process.env` (the only other place that does, beside shared/env.ts). */

const ReaderEnvSchema = z.object({
  SNAPSHOTS_TABLE: z.string().min(3).optional(),
  SNAPSHOT_NAME: z.string().regex(SNAPSHOT_NAME_PATTERN).default(snapshotSettings.defaultName),
  SNAPSHOT_MAX_AGE_MS: z.coerce.number().int().min(0).default(snapshotSettings.maxAgeMs),
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
});

export interface SnapshotReaderEnv {
  readonly tableName: string;
  readonly name: string;
  readonly maxAgeMs: number;
}

export interface SnapshotPublisherEnv {
  readonly tableName: string;
  readonly name: string;
  readonly dlqUrl: string;
  readonly maxAttempts: number;
}

/**
 * Where a reader (e.g. the batch writer) finds its snapshot: `SNAPSHOTS_TABLE`, `SNAPSHOT_NAME`
 * (default `pipeline`), `SNAPSHOT_MAX_AGE_MS` (default 30,000). `undefined` when `SNAPSHOTS_TABLE`
 * is not set: the caller then runs on its environment's configuration alone.
 */
export function snapshotReaderEnv(env: NodeJS.ProcessEnv = process.env): SnapshotReaderEnv | undefined {
  const data = parseEnv(ReaderEnvSchema, env);
  if (data.SNAPSHOTS_TABLE === undefined) return undefined;
  return { tableName: data.SNAPSHOTS_TABLE, name: data.SNAPSHOT_NAME, maxAgeMs: data.SNAPSHOT_MAX_AGE_MS };
}

/** The snapshot publisher Lambda's environment; throws `ConfigurationError` naming the bad variable. */
export function snapshotPublisherEnv(env: NodeJS.ProcessEnv = process.env): SnapshotPublisherEnv {
  const data = parseEnv(PublisherEnvSchema, env);
  return {
    tableName: data.SNAPSHOTS_TABLE,
    name: data.SNAPSHOT_NAME,
    dlqUrl: data.DLQ_URL,
    maxAttempts: data.MAX_PUBLISH_ATTEMPTS,
  };
}
