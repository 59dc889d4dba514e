import type { FinalOutcome, Outcome } from './types.ts';

/**
 * The outcome that decides a write's fate: its own, or, for a write coalesced into a later one to
 * the same key, that later write's.
 *
 * @example
 * const { outcomes } = await batcher.writeAll(requests, deadline);
 * const failed = outcomes.filter((outcome) => finalOutcome(outcome).status === 'retryable');
 */
export function finalOutcome(outcome: Outcome): FinalOutcome {
  return outcome.status === 'coalesced' ? outcome.final : outcome;
}
