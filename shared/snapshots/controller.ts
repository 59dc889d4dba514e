import type { AlarmReadout } from './alarms.ts';
import { nextPointer, type PointerChange, rolloutOutcome } from './pointer.ts';
import { nextMoveAt, nextPercentage } from './strategy.ts';
import type { Pointer, Rollout, RolloutStrategy } from './types.ts';

/** What one controller step does with a pointer. */
export type RolloutAction =
  /** No automated rollout on the pointer, or nothing due yet (`nextAt`: when something is). */
  | { readonly kind: 'none'; readonly reason: 'no-rollout' | 'waiting'; readonly nextAt?: string }
  /** The candidate goes from `from` to `to` percent. */
  | { readonly kind: 'advance'; readonly from: number; readonly to: number }
  /** The bake ended with every alarm clear: the candidate becomes stable. */
  | { readonly kind: 'promote'; readonly version: number }
  /** An alarm is in ALARM, or alarms stayed unknown too long: back to the stable version. */
  | {
      readonly kind: 'rollback';
      readonly version: number;
      readonly reason: 'alarm' | 'alarms-unknown';
      readonly alarms: readonly string[];
    }
  /** Some alarms cannot be read: nothing moves; past `rollbackAt` the candidate is rolled back. */
  | {
      readonly kind: 'hold';
      readonly unknown: readonly string[];
      readonly since: string;
      readonly rollbackAt: string;
    }
  /** Every alarm is readable again after a hold: the pointer forgets the hold. */
  | { readonly kind: 'resume' };

export interface RolloutDecision {
  readonly action: RolloutAction;
  /** The pointer to write (conditional on `base.generation`); `undefined`: nothing to write. */
  readonly next: Pointer | undefined;
}

export interface DecideOptions {
  /** Roll back once alarms have been unknown (missing, unreadable) this long. */
  readonly unknownAlarmsRollbackMs: number;
}

/**
 * One controller step, as a pure function of the pointer, the time and what the alarm source said.
 * In order: any named alarm in ALARM rolls back (during the steps and the bake alike); unknown
 * alarms hold the rollout (nothing advances while it cannot see), and roll back once they have
 * been unknown for `unknownAlarmsRollbackMs`; otherwise a due step advances the percentage, and a
 * finished bake at 100% promotes. At most one step per call, so a controller that was down does
 * not jump: each step waits `everyMs` after the one before.
 */
export function decideRollout(
  pointer: Pointer | undefined,
  readout: AlarmReadout,
  change: PointerChange,
  options: DecideOptions,
): RolloutDecision {
  const candidate = pointer?.candidate;
  if (pointer === undefined || candidate?.strategy === undefined) {
    return { action: { kind: 'none', reason: 'no-rollout' }, next: undefined };
  }
  const strategy = candidate.strategy;
  const now = change.at.getTime();

  const alarming = strategy.alarms.filter((name) => readout.states.get(name) === 'ALARM');
  if (alarming.length > 0) return rollback(pointer, candidate, 'alarm', alarming, change);

  const unknown = strategy.alarms.filter((name) => !readout.states.has(name));
  if (unknown.length > 0) {
    const since = strategy.alarmsUnknownSince ?? change.at.toISOString();
    const rollbackAt = Date.parse(since) + options.unknownAlarmsRollbackMs;
    if (now >= rollbackAt) return rollback(pointer, candidate, 'alarms-unknown', unknown, change);
    const next =
      strategy.alarmsUnknownSince === undefined
        ? withCandidate(
            pointer,
            { ...candidate, strategy: { ...strategy, alarmsUnknownSince: since } },
            change,
          )
        : undefined;
    return {
      action: { kind: 'hold', unknown, since, rollbackAt: new Date(rollbackAt).toISOString() },
      next,
    };
  }

  const { alarmsUnknownSince, ...clear } = strategy;
  const resumed = alarmsUnknownSince !== undefined;
  const due = now >= nextMoveAt({ ...candidate, strategy: clear }).getTime();
  if (due && candidate.percentage >= 100) {
    const lastRollout = rolloutOutcome(candidate, 'promoted', 'baked', change);
    return {
      action: { kind: 'promote', version: candidate.version },
      next: nextPointer(pointer.name, pointer, { stable: candidate.version, lastRollout }, change),
    };
  }
  if (due) {
    const to = nextPercentage(clear, candidate.percentage);
    const stepped: RolloutStrategy = { ...clear, lastStepAt: change.at.toISOString() };
    return {
      action: { kind: 'advance', from: candidate.percentage, to },
      next: withCandidate(pointer, { ...candidate, percentage: to, strategy: stepped }, change),
    };
  }
  if (resumed) {
    return {
      action: { kind: 'resume' },
      next: withCandidate(pointer, { ...candidate, strategy: clear }, change),
    };
  }
  const nextAt = nextMoveAt({ ...candidate, strategy: clear }).toISOString();
  return { action: { kind: 'none', reason: 'waiting', nextAt }, next: undefined };
}

function rollback(
  pointer: Pointer,
  candidate: Rollout,
  reason: 'alarm' | 'alarms-unknown',
  alarms: readonly string[],
  change: PointerChange,
): RolloutDecision {
  const lastRollout = rolloutOutcome(candidate, 'rolled-back', reason, change, alarms);
  return {
    action: { kind: 'rollback', version: candidate.version, reason, alarms },
    next: nextPointer(pointer.name, pointer, { stable: pointer.stable, lastRollout }, change),
  };
}

function withCandidate(pointer: Pointer, candidate: Rollout, change: PointerChange): Pointer {
  return nextPointer(pointer.name, pointer, { stable: pointer.stable, candidate }, change);
}
