// Process start → this line: runtime and module loading, the first cold start phase.
const importedAtMs = performance.now();

import { rm, writeFile } from 'node:fs/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { jobsTableTarget } from '../../shared/pipeline/inference/job-status.ts';
import { GPU_WORKER_METRICS, GPU_WORKER_SERVICE } from '../../shared/pipeline/inference/metric-names.ts';
import { startTracing, type Tracing } from '../../shared/tracing/index.ts';
import { WriteBatcher } from '../../shared/write-batcher/index.ts';
import { OnnxBackend } from './backends/onnx.ts';
import { TritonBackend } from './backends/triton.ts';
import type { InferenceBackend } from './backends/types.ts';
import { AdaptiveBatchLimit } from './batch-limit.ts';
import { workerEnv } from './env.ts';
import { type GpuMonitor, startGpuMonitor } from './gpu-monitor.ts';
import { AwsS3InputReader, UnsupportedS3InputReader } from './inputs.ts';
import { jobTracer } from './job-tracing.ts';
import { LocalModelRepository, type ModelRepository, S3ModelRepository } from './model-repository.ts';
import { ModelRegistry } from './models.ts';
import { EcsTaskProtection, NoTaskProtection } from './task-protection.ts';
import { NvidiaSmiSampler } from './telemetry.ts';
import { SqsWorkSource } from './work-source.ts';
import { GpuWorker } from './worker.ts';

/**
 * The GPU worker process (ECS task, or `npx tsx functions/gpu-worker/main.ts` locally). Exit codes:
 * 0 after a graceful stop, 1 when start-up failed or inference hung, 2 for a bad configuration.
 */
const logger = new Logger({ serviceName: GPU_WORKER_SERVICE });

let env: ReturnType<typeof workerEnv>;
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; the SDK is loaded only then.
let tracing: Tracing;
try {
  env = workerEnv();
  tracing = await startTracing({ serviceName: GPU_WORKER_SERVICE });
} catch (error) {
  logger.error('bad configuration', { error });
  process.exit(2);
}

const metrics = new Metrics({ serviceName: GPU_WORKER_SERVICE });
const gpuMetrics = new Metrics({ serviceName: GPU_WORKER_SERVICE });
const s3 = new S3Client({});
const repository: ModelRepository = env.modelRepository.startsWith('s3://')
  ? new S3ModelRepository(s3, env.modelRepository, env.modelCacheDir)
  : new LocalModelRepository(env.modelRepository);
const backend: InferenceBackend =
  env.backend === 'triton'
    ? new TritonBackend({ url: env.tritonUrl, timeoutMs: env.maxBatchDurationMs })
    : new OnnxBackend({
        repository,
        executionProvider: env.executionProvider,
        intraOpThreads: env.intraOpThreads,
        onFallback: (reason) => logger.warn('running on CPU', { reason }),
      });
const models = new ModelRegistry(backend, (model) =>
  logger.info('model loaded', { model: model.ref, device: model.device, loadMs: Math.round(model.loadMs) }),
);
// maxAttempts 1: the WriteBatcher owns retries and counts them.
const jobs = new WriteBatcher({
  client: new DynamoDBClient({ maxAttempts: 1 }),
  maxConcurrency: env.writeConcurrency,
  metrics,
});
const batchLimit = new AdaptiveBatchLimit({ max: env.maxBatch });
const worker = new GpuWorker(
  {
    source: new SqsWorkSource(new SQSClient({}), env.workQueueUrl, { traceContext: tracing.enabled }),
    models,
    jobs,
    table: jobsTableTarget(env.jobsTable),
    s3: env.s3Inputs ? new AwsS3InputReader(s3) : new UnsupportedS3InputReader(),
    protection: env.ecsAgentUri
      ? new EcsTaskProtection({
          agentUri: env.ecsAgentUri,
          onError: (error) => logger.warn('task protection call failed', { error }),
        })
      : new NoTaskProtection(),
    batchLimit,
    logger,
    metrics,
    tracer: jobTracer(tracing),
  },
  {
    workerId: env.workerId,
    defaultModel: { name: env.modelName, version: env.modelVersion },
    maxDelayMs: env.maxDelayMs,
    receiveWaitSeconds: env.receiveWaitSeconds,
    maxInFlightJobs: env.maxInFlightJobs,
    visibilityTimeoutSeconds: env.visibilityTimeoutSeconds,
    heartbeatIntervalMs: env.heartbeatIntervalMs,
    maxBatchDurationMs: env.maxBatchDurationMs,
    stopTimeoutMs: env.stopTimeoutMs,
  },
);

// A signal during start-up stops the worker as soon as it is ready.
let stopSignal: string | undefined;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopSignal === undefined) {
      // The last line of defence: whatever hangs, exit before ECS's stop timeout sends SIGKILL.
      setTimeout(() => {
        logger.error('stop budget exceeded; exiting', { stopTimeoutMs: env.stopTimeoutMs });
        process.exit(1);
      }, env.stopTimeoutMs + 5_000).unref();
    }
    stopSignal ??= signal;
    worker.stop(signal);
  });
}

/** Publishes buffered metrics, if any (an empty publish only logs a warning). */
function publish(target: Metrics): void {
  if (target.hasStoredMetrics()) target.publishStoredMetrics();
}

async function main(): Promise<number> {
  let coldStart: Awaited<ReturnType<GpuWorker['start']>>;
  try {
    coldStart = await worker.start();
  } catch (error) {
    logger.error('start-up failed', { error });
    return 1;
  }
  const readyMs = performance.now();
  const phases = {
    device: coldStart.device,
    backend: backend.name,
    processStartToImportMs: Math.round(importedAtMs),
    modelLoadMs: Math.round(coldStart.modelLoadMs),
    warmUpMs: Math.round(coldStart.warmUpMs),
    warmUpFullBatchMs: Math.round(coldStart.warmUpFullBatchMs),
    processStartToReadyMs: Math.round(readyMs),
  };
  metrics.addMetric(GPU_WORKER_METRICS.ColdStartModelLoad, MetricUnit.Milliseconds, coldStart.modelLoadMs);
  metrics.addMetric(GPU_WORKER_METRICS.ColdStartWarmUp, MetricUnit.Milliseconds, coldStart.warmUpMs);
  metrics.addMetric(GPU_WORKER_METRICS.ColdStartReady, MetricUnit.Milliseconds, readyMs);
  metrics.publishStoredMetrics();
  if (env.readyFile) await writeFile(env.readyFile, `${JSON.stringify(phases)}\n`);
  logger.info('worker ready', { ...phases, maxBatch: env.maxBatch, maxDelayMs: env.maxDelayMs });

  const monitor: GpuMonitor | undefined = env.gpuTelemetry
    ? startGpuMonitor({
        sampler: new NvidiaSmiSampler(),
        batchLimit,
        intervalMs: env.telemetryIntervalMs,
        logger,
        metrics: gpuMetrics,
      })
    : undefined;
  const publisher = setInterval(() => publish(metrics), 10_000);
  publisher.unref();

  if (stopSignal) worker.stop(stopSignal);
  const report = await worker.run();
  await jobs.close();
  await monitor?.stop();
  clearInterval(publisher);
  publish(metrics);
  if (env.readyFile) await rm(env.readyFile, { force: true });
  await models.disposeAll();
  logger.info('worker stopped', { ...report });
  return report.unhealthy ? 1 : 0;
}

process.exitCode = await main().catch((error: unknown) => {
  logger.error('worker crashed', { error });
  return 1;
});
// Exports the spans still buffered, within 2 s (inside the 5 s the stop budget leaves after the
// drain); nothing when tracing is off.
await tracing.shutdown(2_000);
// Open sockets (keep-alive agents) must not hold the process past a stop.
process.exit();
