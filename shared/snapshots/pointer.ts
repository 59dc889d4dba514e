import { InvalidRolloutError } from './errors.ts';
import { planStrategy, type RolloutStrategyRequest } from './strategy.ts';
import type { Pointer, Rollout, RolloutOutcome } from './types.ts';

/** Who and when, for a pointer change. */
export interface PointerChange {
  readonly at: Date;
  readonly by: string;
}

/**
 * The pointer after `base` (none: the first) with `versions`: the next generation, stamped with
 * `change`. The record of how the last rollout ended is carried over unless `versions` replaces it.
 */
export function nextPointer(
  name: string,
  base: Pointer | undefined,
  versions: Pick<Pointer, 'stable' | 'candidate' | 'lastRollout'>,
  change: PointerChange,
): Pointer {
  const lastRollout = 'lastRollout' in versions ? versions.lastRollout : base?.lastRollout;
  return {
    name,
    generation: (base?.generation ?? 0) + 1,
    stable: versions.stable,
    ...(versions.candidate ? { candidate: versions.candidate } : {}),
    ...(lastRollout ? { lastRollout } : {}),
    updatedAt: change.at.toISOString(),
    updatedBy: change.by,
  };
}

/** The record of `candidate` leaving the pointer. */
export function rolloutOutcome(
  candidate: Rollout,
  outcome: RolloutOutcome['outcome'],
  reason: RolloutOutcome['reason'],
  change: PointerChange,
  alarms?: readonly string[],
): RolloutOutcome {
  return {
    version: candidate.version,
    outcome,
    reason,
    ...(alarms && alarms.length > 0 ? { alarms: [...alarms] } : {}),
    percentage: candidate.percentage,
    at: change.at.toISOString(),
    by: change.by,
  };
}

/** `base` with its candidate at `percentage`, or (100) the candidate made stable. */
export function promotedPointer(base: Pointer, percentage: number, change: PointerChange): Pointer {
  const { candidate } = base;
  if (candidate === undefined)
    throw new InvalidRolloutError(`snapshot "${base.name}" has no candidate to promote`);
  return percentage === 100
    ? nextPointer(
        base.name,
        base,
        { stable: candidate.version, ...endedBy(base, change, 'promoted') },
        change,
      )
    : nextPointer(base.name, base, { stable: base.stable, candidate: { ...candidate, percentage } }, change);
}

/** `base` serving `to` to everyone, its candidate (if any) recorded as rolled back by hand. */
export function rolledBackPointer(base: Pointer, to: number, change: PointerChange): Pointer {
  return nextPointer(base.name, base, { stable: to, ...endedBy(base, change, 'rolled-back') }, change);
}

/** `base` with its candidate automated from its current percentage. */
export function automatedPointer(
  base: Pointer,
  request: RolloutStrategyRequest,
  change: PointerChange,
): Pointer {
  const { candidate } = base;
  if (candidate === undefined)
    throw new InvalidRolloutError(`snapshot "${base.name}" has no candidate to roll out`);
  const strategy = planStrategy(candidate.percentage, request, change.at, candidate.match);
  return nextPointer(base.name, base, { stable: base.stable, candidate: { ...candidate, strategy } }, change);
}

/** `base` with its candidate's strategy removed: moved by hand from now on. */
export function manualPointer(base: Pointer, change: PointerChange): Pointer {
  const { candidate } = base;
  if (candidate?.strategy === undefined) {
    throw new InvalidRolloutError(`snapshot "${base.name}" has no automated rollout to stop`);
  }
  const { strategy: _, ...manual } = candidate;
  return nextPointer(base.name, base, { stable: base.stable, candidate: manual }, change);
}

/** The record of `base`'s candidate (if any) replaced by a newly published version. */
export function superseded(
  base: Pointer | null | undefined,
  change: PointerChange,
): Pick<Pointer, 'lastRollout'> | Record<string, never> {
  return base?.candidate
    ? { lastRollout: rolloutOutcome(base.candidate, 'rolled-back', 'superseded', change) }
    : {};
}

/** The record of `base`'s candidate (if any) ended by a person's promote or rollback. */
function endedBy(
  base: Pointer,
  change: PointerChange,
  outcome: RolloutOutcome['outcome'],
): Pick<Pointer, 'lastRollout'> | Record<string, never> {
  return base.candidate ? { lastRollout: rolloutOutcome(base.candidate, outcome, 'manual', change) } : {};
}
