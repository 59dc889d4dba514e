import { describe, expect, it } from 'vitest';
import { SnapshotCommandError } from '../../../../shared/cli/errors.ts';
import { InvalidSnapshotDocumentError, SnapshotConflictError } from '../../../../shared/snapshots/errors.ts';

describe('SnapshotCommandError', () => {
  it('reports a lost publish race with exit status 1, worth re-running', () => {
    // Act
    const error = new SnapshotCommandError(new SnapshotConflictError('pipeline', 3, 4));
    // Assess
    expect(error).toMatchObject({ code: 'SNAPSHOT_CONFLICT', exitCode: 1 });
    expect(error.message).toBe(
      'snapshot "pipeline" changed concurrently: expected generation 3; it is at generation 4',
    );
  });

  it('reports bad input with exit status 2 and the path of the bad field', () => {
    // Act
    const error = new SnapshotCommandError(new InvalidSnapshotDocumentError('routing.items', 'Required'));
    // Assess
    expect(error).toMatchObject({
      code: 'INVALID_SNAPSHOT_DOCUMENT',
      exitCode: 2,
      message: 'routing.items: Required',
    });
  });
});
