import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/core/env.ts';
import { snapshotPublisherEnv, snapshotReaderEnv } from '../../../shared/pipeline/snapshot-env.ts';

const publisherVariables = {
  SNAPSHOTS_TABLE: 'snapshots',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/config-changes-dlq.fifo',
  GRANTED_TABLES: '["items-table","orders-table"]',
  BOOTSTRAP_CONFIG: '{"routing":{"items":{"tableName":"items-table","partitionKey":"pk"}}}',
};

describe('snapshot environment', () => {
  it('reads the reader variables with their defaults', () => {
    // Act
    const env = snapshotReaderEnv({ SNAPSHOTS_TABLE: 'snapshots', GRANTED_TABLES: '["items-table"]' });
    // Assess
    expect(env).toEqual({
      tableName: 'snapshots',
      name: 'pipeline',
      maxAgeMs: 30_000,
      grantedTables: ['items-table'],
    });
  });

  it('has no reader configuration without SNAPSHOTS_TABLE', () => {
    // Act
    const env = snapshotReaderEnv({});
    // Assess
    expect(env).toBeUndefined();
  });

  it('refuses a reader that does not know which tables a route may name', () => {
    // Act
    const read = () => snapshotReaderEnv({ SNAPSHOTS_TABLE: 'snapshots' });
    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(/GRANTED_TABLES/);
  });

  it('reads the publisher variables: granted tables and the bootstrap document', () => {
    // Act
    const env = snapshotPublisherEnv(publisherVariables);
    // Assess
    expect(env).toMatchObject({
      grantedTables: ['items-table', 'orders-table'],
      bootstrap: { routing: { items: { tableName: 'items-table' } } },
    });
  });

  it('names the bad variable of the publisher', () => {
    // Act
    const badUrl = () => snapshotPublisherEnv({ ...publisherVariables, DLQ_URL: 'not a url' });
    const badTables = () => snapshotPublisherEnv({ ...publisherVariables, GRANTED_TABLES: '"items"' });
    const badBootstrap = () => snapshotPublisherEnv({ ...publisherVariables, BOOTSTRAP_CONFIG: '{' });
    // Assess
    expect(badUrl).toThrow(ConfigurationError);
    expect(badUrl).toThrow(/DLQ_URL/);
    expect(badTables).toThrow(/GRANTED_TABLES/);
    expect(badBootstrap).toThrow(/BOOTSTRAP_CONFIG/);
  });
});
