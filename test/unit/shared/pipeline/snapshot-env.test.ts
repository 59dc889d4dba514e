import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../../shared/core/env.ts';
import { snapshotReaderEnv } from '../../../../shared/pipeline/snapshot-env.ts';

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
});
