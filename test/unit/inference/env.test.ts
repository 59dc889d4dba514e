import { describe, expect, it } from 'vitest';
import { workerEnv } from '../../../functions/gpu-worker/env.ts';
import { dispatcherEnv } from '../../../functions/inference-dispatcher/env.ts';
import { inferenceSettings } from '../../../shared/pipeline/inference/settings.ts';

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

describe('dispatcherEnv', () => {
  it('reads the model map and scales only with both cluster and service', () => {
    // Act
    const env = dispatcherEnv({
      JOBS_TABLE: 'jobs',
      WORK_QUEUE_URL: queueUrl,
      DLQ_URL: queueUrl,
      MODELS: '{"a":"3"}',
      ECS_CLUSTER: 'c',
    });
    // Assess
    expect(env.models).toEqual({ a: '3' });
    expect(env.service).toBeUndefined();
  });

  it('takes model versions from the config snapshot when the snapshot store bound it as a reader', () => {
    // Act
    const env = dispatcherEnv({
      JOBS_TABLE: 'jobs',
      WORK_QUEUE_URL: queueUrl,
      DLQ_URL: queueUrl,
      SNAPSHOTS_TABLE: 'snaps',
      GRANTED_TABLES: '["items-table"]',
    });
    // Assess
    expect(env.configSnapshot).toEqual({
      tableName: 'snaps',
      name: 'pipeline',
      maxAgeMs: 30_000,
      grantedTables: ['items-table'],
    });
  });

  it('refuses the config snapshot without the tables a route may name', () => {
    // Act
    const read = () =>
      dispatcherEnv({
        JOBS_TABLE: 'jobs',
        WORK_QUEUE_URL: queueUrl,
        DLQ_URL: queueUrl,
        SNAPSHOTS_TABLE: 'snaps',
      });
    // Assess
    expect(read).toThrow(/GRANTED_TABLES is required with SNAPSHOTS_TABLE/);
  });

  it('rejects a MODELS value that is not a JSON map of strings', () => {
    // Act & Assess
    expect(() =>
      dispatcherEnv({ JOBS_TABLE: 'jobs', WORK_QUEUE_URL: queueUrl, DLQ_URL: queueUrl, MODELS: '{"a":3}' }),
    ).toThrow('MODELS');
  });
});
