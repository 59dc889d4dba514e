import { describe, expect, it } from 'vitest';
import { workerEnv } from '../../../../functions/gpu-worker/env.ts';
import { inferenceSettings } from '../../../../shared/pipeline/inference/settings.ts';

const queueUrl = 'http://localhost:4566/000000000000/gpu-work';

describe('workerEnv', () => {
  it('fills documented defaults', () => {
    // Act
    const env = workerEnv({ WORK_QUEUE_URL: queueUrl, JOBS_TABLE: 'jobs', WORKER_ID: 'w' });
    // Assess
    expect(env).toMatchObject({
      backend: 'onnx',
      executionProvider: 'auto',
      maxBatch: inferenceSettings.worker.maxBatch,
      maxDelayMs: inferenceSettings.worker.maxDelayMs,
      visibilityTimeoutSeconds: inferenceSettings.workQueue.visibilityTimeoutSeconds,
      stopTimeoutMs: 110_000,
      modelName: 'shelf-classifier',
      modelVersion: '1',
      gpuTelemetry: true,
      s3Inputs: true,
      workerId: 'w',
    });
    expect(env.ecsAgentUri).toBeUndefined();
  });

  it('names the bad variable', () => {
    // Act & Assess
    expect(() => workerEnv({ WORK_QUEUE_URL: queueUrl, JOBS_TABLE: 'jobs', MAX_BATCH: '0' })).toThrow(
      'environment variable MAX_BATCH',
    );
    expect(() => workerEnv({ JOBS_TABLE: 'jobs' })).toThrow('WORK_QUEUE_URL');
  });
});
