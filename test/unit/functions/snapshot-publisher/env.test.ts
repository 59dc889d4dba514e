import { describe, expect, it } from 'vitest';
import { snapshotPublisherEnv } from '../../../../functions/snapshot-publisher/env.ts';
import { ConfigurationError } from '../../../../shared/core/env.ts';

const publisherVariables = {
  SNAPSHOTS_TABLE: 'snapshots',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/config-changes-dlq.fifo',
  GRANTED_TABLES: '["items-table","orders-table"]',
  BOOTSTRAP_CONFIG: '{"routing":{"items":{"tableName":"items-table","partitionKey":"pk"}}}',
};

describe('snapshotPublisherEnv', () => {
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
