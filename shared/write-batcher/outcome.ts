import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { FinalOutcome, Outcome, StaleOutcome, Versioning } from './types.ts';

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

/**
 * The `stale` outcome of a version-guarded write whose condition failed, from the stored item the
 * failure returned (`ALL_OLD`, if any): only its version and tombstone flag are read, so no stored
 * attribute outlives this call.
 */
export function staleOutcome(
  incomingVersion: number | undefined,
  stored: Readonly<Record<string, AttributeValue>> | undefined,
  versioning: Pick<Versioning, 'versionAttribute' | 'deletedAttribute'>,
): StaleOutcome {
  const version = Number(stored?.[versioning.versionAttribute]?.N);
  return {
    status: 'stale',
    ...(incomingVersion === undefined ? {} : { incomingVersion }),
    ...(Number.isFinite(version) ? { storedVersion: version } : {}),
    ...(stored?.[versioning.deletedAttribute]?.BOOL === true ? { storedDeleted: true as const } : {}),
  };
}
