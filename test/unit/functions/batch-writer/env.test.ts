import { describe, expect, it } from 'vitest';
import { batchWriterEnv } from '../../../../functions/batch-writer/env.ts';
import { ConfigurationError } from '../../../../shared/core/env.ts';
import { itemsRoutes } from '../../../support/factories/writes.ts';

const variables = {
  TABLE_ROUTES: JSON.stringify(itemsRoutes),
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/ingest-dlq',
};

describe('batch writer environment', () => {
  it('reads the routes and the DLQ, with the deployed write options as defaults', () => {
    // Act
    const env = batchWriterEnv(variables);
    // Assess
    expect(env).toEqual({
      routes: itemsRoutes,
      dlqUrl: variables.DLQ_URL,
      maxConcurrency: 8,
      deadlineMarginMs: 1500,
    });
  });

  it('adds the snapshot reader variables when SNAPSHOTS_TABLE is set', () => {
    // Act
    const env = batchWriterEnv({
      ...variables,
      SNAPSHOTS_TABLE: 'snapshots',
      SNAPSHOT_MAX_AGE_MS: '100',
      GRANTED_TABLES: '["items-physical"]',
    });
    // Assess
    expect(env.snapshots).toEqual({
      tableName: 'snapshots',
      name: 'pipeline',
      maxAgeMs: 100,
      grantedTables: ['items-physical'],
    });
  });

  it('names the variable that holds a bad value', () => {
    // Act
    const read = (overrides: Record<string, string>) => () => batchWriterEnv({ ...variables, ...overrides });
    // Assess
    expect(read({ MAX_CONCURRENCY: '0' })).toThrow(ConfigurationError);
    expect(read({ MAX_CONCURRENCY: '0' })).toThrow(/MAX_CONCURRENCY/);
    expect(read({ TABLE_ROUTES: '{"items":' })).toThrow(/TABLE_ROUTES is not valid JSON/);
    expect(read({ SNAPSHOTS_TABLE: 'snapshots' })).toThrow(/GRANTED_TABLES/);
  });
});
