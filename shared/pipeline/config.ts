import { z } from 'zod';
import { InvalidSnapshotDocumentError, RouteNotGrantedError } from '../snapshots/index.ts';
import { Router, RoutesSchema } from './routing.ts';
import { writePathSettings } from './settings.ts';

/** Version of this schema, recorded in every manifest the pipeline publishes. */
export const PIPELINE_CONFIG_SCHEMA_VERSION = 1;

const WriteOptionsSchema = z.strictObject({
  /** DynamoDB requests in flight at once per invocation. */
  maxConcurrency: z.number().int().min(1).max(256).default(writePathSettings.function.maxConcurrency),
  /** The WriteBatcher stops retrying this long before the Lambda deadline. */
  deadlineMarginMs: z.number().int().min(0).max(60_000).default(writePathSettings.function.deadlineMarginMs),
});

const ModelSchema = z.strictObject({
  /** The version to serve, e.g. `"2026-11-01"` or `"v7"`. */
  version: z.string().min(1).max(128),
  /** Where the model lives (S3 URI, path in the image), when not derived from the version. */
  path: z.string().min(1).max(1024).optional(),
});

/**
 * The pipeline's own configuration, published as the `pipeline` snapshot. A document that does
 * not parse is never published.
 *
 * @example
 * {
 *   "routing": { "items": { "tableName": "pipeline-items", "partitionKey": "pk", "sortKey": "sk" } },
 *   "writeOptions": { "maxConcurrency": 16 },
 *   "models": { "classifier": { "version": "v7" } }
 * }
 */
export const PipelineConfigSchema = z.strictObject({
  /** Logical table → physical table, key schema and allowed ops. */
  routing: RoutesSchema,
  writeOptions: WriteOptionsSchema.prefault({}),
  /** Model name → the version workers should load. */
  models: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), ModelSchema).default({}),
});

export type PipelineConfig = z.output<typeof PipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;

export interface PipelineConfigParseOptions {
  /**
   * The physical tables a route may name: the ones the batch writer is granted to write
   * (`GRANTED_TABLES`). A route to any other table throws `RouteNotGrantedError`.
   * @default no check (only the schema is validated)
   */
  readonly grantedTables?: readonly string[];
}

/**
 * Validates a pipeline configuration document and fills in defaults; throws
 * `InvalidSnapshotDocumentError` naming the first bad path (e.g. `routing.items.tableName`), or
 * `RouteNotGrantedError` for a route to a table outside `options.grantedTables`.
 */
export function parsePipelineConfig(
  value: unknown,
  options: PipelineConfigParseOptions = {},
): PipelineConfig {
  const parsed = PipelineConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
    throw new InvalidSnapshotDocumentError(path, `${issue.message}${more}`);
  }
  if (options.grantedTables !== undefined) checkGranted(parsed.data.routing, options.grantedTables);
  return parsed.data;
}

/**
 * The parse every publisher and reader of the `pipeline` snapshot uses: the schema plus the rule
 * that routes name only granted tables.
 *
 * @example
 * const parse = pipelineConfigParser(env.grantedTables);
 * createSnapshotReader({ client, tableName, parse });
 */
export function pipelineConfigParser(grantedTables: readonly string[]): (value: unknown) => PipelineConfig {
  return (value) => parsePipelineConfig(value, { grantedTables });
}

function checkGranted(routing: PipelineConfig['routing'], grantedTables: readonly string[]): void {
  const granted = new Set(grantedTables);
  for (const [logical, route] of Object.entries(routing)) {
    if (!granted.has(route.tableName)) {
      throw new RouteNotGrantedError(route.tableName, `routing.${logical}.tableName`, grantedTables);
    }
  }
}

const routers = new WeakMap<PipelineConfig, Router>();

/**
 * The `Router` for a configuration, built once per snapshot object: a reader returns the same
 * frozen object until the version changes, so callers can ask on every batch.
 *
 * @example const router = routerFor(reader.get().data);
 */
export function routerFor(config: PipelineConfig): Router {
  let router = routers.get(config);
  if (router === undefined) {
    router = new Router(config.routing);
    routers.set(config, router);
  }
  return router;
}
