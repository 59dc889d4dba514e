import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../shared/env.ts';
import { snapshotPublisherEnv, snapshotReaderEnv } from '../../../shared/snapshots/env.ts';

describe('snapshot environment', () => {
  it('reads the reader variables with their defaults', () => {
    // Act
    const env = snapshotReaderEnv({ SNAPSHOTS_TABLE: 'snapshots' });
    // Assess
    expect(env).toEqual({ tableName: 'snapshots', name: 'pipeline', maxAgeMs: 30_000 });
  });

  it('has no reader configuration without SNAPSHOTS_TABLE', () => {
    // Act
    const env = snapshotReaderEnv({});
    // Assess
    expect(env).toBeUndefined();
  });

  it('names the bad variable of the publisher', () => {
    // Act
    const read = () => snapshotPublisherEnv({ SNAPSHOTS_TABLE: 'snapshots', DLQ_URL: 'not a url' });
    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(/DLQ_URL/);
  });
});
