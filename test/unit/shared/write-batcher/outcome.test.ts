import { describe, expect, it } from 'vitest';
import { finalOutcome, type Outcome } from '../../../../shared/write-batcher/index.ts';

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
