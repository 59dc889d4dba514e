import { describe, expect, it } from 'vitest';
import { dispatcherEnv } from '../../../../functions/inference-dispatcher/env.ts';

const queueUrl = 'http://localhost:4566/000000000000/gpu-work';

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
