import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type PipelineConfig, pipelineConfigParser } from '../../shared/pipeline/config.ts';
import { createSnapshotReader, SnapshotNotFoundError } from '../../shared/snapshots/index.ts';
import type { ModelsForCaller } from './model-version.ts';

export interface SnapshotModelsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /**
   * The tables a route may name (`GRANTED_TABLES`): a snapshot routing elsewhere is not adopted,
   * as in the batch writer, so both readers agree on which versions are valid.
   */
  readonly grantedTables: readonly string[];
  /** Snapshot name. @default 'pipeline' */
  readonly name?: string;
  /** How long a loaded snapshot is served before the pointer is checked again. @default 30_000 */
  readonly maxAgeMs?: number;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  /** How long "nothing published yet" is believed before the table is asked again. @default 30_000 */
  readonly notFoundCacheMs?: number;
  readonly now?: () => number;
}

/**
 * The `models` section of the pipeline configuration snapshot for one caller: the reader applies a
 * staged rollout by the caller's key (the jobId). Nothing published yet: `undefined` (the static
 * versions apply).
 */
export function snapshotModelsFor(options: SnapshotModelsOptions): ModelsForCaller {
  const reader = createSnapshotReader<PipelineConfig>({
    client: options.client,
    tableName: options.tableName,
    ...(options.name ? { name: options.name } : {}),
    ...(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs }),
    parse: pipelineConfigParser(options.grantedTables),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const now = options.now ?? Date.now;
  const notFoundCacheMs = options.notFoundCacheMs ?? 30_000;
  let unpublishedUntil = Number.NEGATIVE_INFINITY;
  return async (caller) => {
    if (now() < unpublishedUntil) return undefined;
    try {
      await reader.ready();
    } catch (error) {
      if (!(error instanceof SnapshotNotFoundError)) throw error;
      // Without this, every job of a batch would ask the table again.
      unpublishedUntil = now() + notFoundCacheMs;
      return undefined;
    }
    return reader.getFor(caller).data.models;
  };
}
