import { hostname } from 'node:os';
import { z } from 'zod';
import { parseEnv } from '../../shared/core/env.ts';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import type { ExecutionProvider } from './backends/onnx.ts';

const w = inferenceSettings.worker;
const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);

/** The GPU worker's environment: the only place its configuration is read. */
const WorkerEnvSchema = z.object({
  WORK_QUEUE_URL: z.string().url(),
  JOBS_TABLE: z.string().min(3),
  /** Local directory or `s3://bucket/prefix` holding `<name>/<version>/model.onnx`. */
  MODEL_REPOSITORY: z.string().min(1).default('/opt/models'),
  MODEL_NAME: z.string().min(1).default(inferenceSettings.model.name),
  MODEL_VERSION: z.string().min(1).default(inferenceSettings.model.version),
  MODEL_CACHE_DIR: z.string().min(1).default('/tmp/models'),
  BACKEND: z.enum(['onnx', 'triton']).default('onnx'),
  TRITON_URL: z.string().url().default('http://localhost:8000'),
  EXECUTION_PROVIDER: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  INTRA_OP_THREADS: int(0, 0),
  MAX_BATCH: int(1, w.maxBatch),
  MAX_DELAY_MS: int(0, w.maxDelayMs),
  RECEIVE_WAIT_SECONDS: z.coerce.number().int().min(0).max(20).default(w.receiveWaitSeconds),
  MAX_IN_FLIGHT_JOBS: int(1, w.maxInFlightJobs),
  VISIBILITY_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(43_200)
    .default(inferenceSettings.workQueue.visibilityTimeoutSeconds),
  HEARTBEAT_INTERVAL_MS: int(100, w.heartbeatIntervalMs),
  MAX_BATCH_DURATION_MS: int(100, w.maxBatchDurationMs),
  STOP_TIMEOUT_MS: int(0, w.stopTimeoutSeconds * 1000 - w.stopMarginMs),
  WRITE_CONCURRENCY: int(1, 8),
  GPU_TELEMETRY: z.enum(['auto', 'off']).default('auto'),
  TELEMETRY_INTERVAL_MS: int(100, w.telemetryIntervalMs),
  S3_INPUTS: z.enum(['enabled', 'disabled']).default('enabled'),
  READY_FILE: z.string().default(w.readyFile),
  /** Set by the ECS agent in every task; its absence turns task protection off. */
  ECS_AGENT_URI: z.string().url().optional(),
  WORKER_ID: z.string().min(1).optional(),
});

export interface WorkerEnv {
  readonly workQueueUrl: string;
  readonly jobsTable: string;
  readonly modelRepository: string;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly modelCacheDir: string;
  readonly backend: 'onnx' | 'triton';
  readonly tritonUrl: string;
  readonly executionProvider: ExecutionProvider;
  readonly intraOpThreads: number;
  readonly maxBatch: number;
  readonly maxDelayMs: number;
  readonly receiveWaitSeconds: number;
  readonly maxInFlightJobs: number;
  readonly visibilityTimeoutSeconds: number;
  readonly heartbeatIntervalMs: number;
  readonly maxBatchDurationMs: number;
  readonly stopTimeoutMs: number;
  readonly writeConcurrency: number;
  readonly gpuTelemetry: boolean;
  readonly telemetryIntervalMs: number;
  readonly s3Inputs: boolean;
  /** Empty: no readiness file. */
  readonly readyFile: string;
  readonly ecsAgentUri?: string;
  readonly workerId: string;
}

/** Reads and validates the worker's environment; throws `ConfigurationError` naming the bad variable. */
export function workerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const e = parseEnv(WorkerEnvSchema, env);
  return {
    workQueueUrl: e.WORK_QUEUE_URL,
    jobsTable: e.JOBS_TABLE,
    modelRepository: e.MODEL_REPOSITORY,
    modelName: e.MODEL_NAME,
    modelVersion: e.MODEL_VERSION,
    modelCacheDir: e.MODEL_CACHE_DIR,
    backend: e.BACKEND,
    tritonUrl: e.TRITON_URL,
    executionProvider: e.EXECUTION_PROVIDER,
    intraOpThreads: e.INTRA_OP_THREADS,
    maxBatch: e.MAX_BATCH,
    maxDelayMs: e.MAX_DELAY_MS,
    receiveWaitSeconds: e.RECEIVE_WAIT_SECONDS,
    maxInFlightJobs: e.MAX_IN_FLIGHT_JOBS,
    visibilityTimeoutSeconds: e.VISIBILITY_TIMEOUT_SECONDS,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    maxBatchDurationMs: e.MAX_BATCH_DURATION_MS,
    stopTimeoutMs: e.STOP_TIMEOUT_MS,
    writeConcurrency: e.WRITE_CONCURRENCY,
    gpuTelemetry: e.GPU_TELEMETRY === 'auto',
    telemetryIntervalMs: e.TELEMETRY_INTERVAL_MS,
    s3Inputs: e.S3_INPUTS === 'enabled',
    readyFile: e.READY_FILE,
    ...(e.ECS_AGENT_URI ? { ecsAgentUri: e.ECS_AGENT_URI } : {}),
    workerId: e.WORKER_ID ?? `${hostname()}-${process.pid}`,
  };
}
