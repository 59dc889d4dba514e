import { describe, expect, it } from 'vitest';
import { finalOutcome, type Outcome } from '../../../../shared/write-batcher/index.ts';
import { staleOutcome } from '../../../../shared/write-batcher/outcome.ts';

describe('finalOutcome', () => {
  it('is the outcome itself for a write that was sent', () => {
    // Prepare
    const outcome: Outcome = { status: 'retryable', reason: 'deadline', detail: 'still throttled' };
    // Act
    const final = finalOutcome(outcome);
    // Assess
    expect(final).toBe(outcome);
  });

  it('is the superseding write’s outcome for a coalesced write', () => {
    // Prepare
    const outcome: Outcome = { status: 'coalesced', supersededBy: 3, final: { status: 'stale' } };
    // Act
    const final = finalOutcome(outcome);
    // Assess
    expect(final).toEqual({ status: 'stale' });
  });
});

describe('staleOutcome', () => {
  const versioning = { versionAttribute: '_version', deletedAttribute: '_deleted' };

  it('keeps the stored version and tombstone flag of the item that won, nothing else', () => {
    // Prepare
    const stored = { pk: { S: 'a' }, _version: { N: '7' }, _deleted: { BOOL: true }, body: { S: 'x' } };
    // Act
    const outcome = staleOutcome(6, stored, versioning);
    // Assess
    expect(outcome).toStrictEqual({
      status: 'stale',
      incomingVersion: 6,
      storedVersion: 7,
      storedDeleted: true,
    });
  });

  it('leaves out what the stored item does not say', () => {
    expect(staleOutcome(2, undefined, versioning)).toStrictEqual({ status: 'stale', incomingVersion: 2 });
    expect(staleOutcome(2, { _version: { S: 'seven' } }, versioning)).toStrictEqual({
      status: 'stale',
      incomingVersion: 2,
    });
  });
});
