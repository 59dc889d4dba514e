import { z } from 'zod';
import { parseEnv, parseJsonVariable } from '../../shared/core/env.ts';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import { type SnapshotReaderEnv, snapshotReaderEnv } from '../../shared/pipeline/snapshot-env.ts';

/** The inference dispatcher's environment: the only place its configuration is read. */
const DispatcherEnvSchema = z.object({
  JOBS_TABLE: z.string().min(3),
  WORK_QUEUE_URL: z.string().url(),
  DLQ_URL: z.string().url(),
  /** JSON object: model name → version served when no config snapshot names the model. */
  MODELS: z
    .string()
    .default(JSON.stringify({ [inferenceSettings.model.name]: inferenceSettings.model.version })),
  /** Both set: scale the worker service from zero. Either unset: no scaling (local runs). */
  ECS_CLUSTER: z.string().min(1).optional(),
  ECS_SERVICE: z.string().min(1).optional(),
  SCALER_CACHE_MS: z.coerce.number().int().min(0).default(inferenceSettings.dispatcher.scalerCacheMs),
  DEADLINE_MARGIN_MS: z.coerce.number().int().min(0).default(1500),
  MAX_JOBS_PER_MESSAGE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(inferenceSettings.workMessage.maxJobs),
  MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1_048_576)
    .default(inferenceSettings.workMessage.maxBytes),
});

const ModelsSchema = z.record(z.string().min(1), z.string().min(1));

export interface DispatcherEnv {
  readonly jobsTable: string;
  readonly workQueueUrl: string;
  readonly dlqUrl: string;
  readonly models: Readonly<Record<string, string>>;
  readonly service?: { readonly cluster: string; readonly service: string };
  /** Set (`SNAPSHOTS_TABLE`): model versions come from the config snapshot (staged rollout by jobId). */
  readonly configSnapshot?: SnapshotReaderEnv;
  readonly scalerCacheMs: number;
  readonly deadlineMarginMs: number;
  readonly maxJobsPerMessage: number;
  readonly maxMessageBytes: number;
}

/** Reads and validates the dispatcher's environment; throws `ConfigurationError` naming the bad variable. */
export function dispatcherEnv(env: NodeJS.ProcessEnv = process.env): DispatcherEnv {
  const e = parseEnv(DispatcherEnvSchema, env);
  const models = parseJsonVariable('MODELS', e.MODELS, ModelsSchema);
  // The snapshot store's reader variables (SNAPSHOTS_TABLE, SNAPSHOT_NAME, SNAPSHOT_MAX_AGE_MS,
  // GRANTED_TABLES).
  const configSnapshot = snapshotReaderEnv(env);
  return {
    jobsTable: e.JOBS_TABLE,
    workQueueUrl: e.WORK_QUEUE_URL,
    dlqUrl: e.DLQ_URL,
    models,
    ...(e.ECS_CLUSTER && e.ECS_SERVICE
      ? { service: { cluster: e.ECS_CLUSTER, service: e.ECS_SERVICE } }
      : {}),
    ...(configSnapshot ? { configSnapshot } : {}),
    scalerCacheMs: e.SCALER_CACHE_MS,
    deadlineMarginMs: e.DEADLINE_MARGIN_MS,
    maxJobsPerMessage: e.MAX_JOBS_PER_MESSAGE,
    maxMessageBytes: e.MAX_MESSAGE_BYTES,
  };
}
