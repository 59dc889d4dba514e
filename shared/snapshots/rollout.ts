import { hash } from 'node:crypto';
import { InvalidRolloutError } from './errors.ts';
import type { Pointer, Rollout } from './types.ts';

/** Callers are spread over this many buckets: percentages count to two decimals. */
export const ROLLOUT_BUCKETS = 10_000;

/** What a caller tells the reader about itself to get its version of a staged rollout. */
export interface Caller {
  /** Stable identity (device id, tenant, worker id): the same key always gets the same version. */
  readonly key: string;
  /** Attributes the rollout's rules can match, e.g. `{ region: 'eu-west-1', model: 'm-7' }`. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/**
 * The caller's bucket (0-9999) for one rollout: sha256 of snapshot name, candidate version and key.
 * Raising the percentage only adds callers; a new candidate reshuffles who goes first.
 */
export function rolloutBucket(name: string, candidateVersion: number, key: string): number {
  return (
    hash('sha256', `${name}\u0000${candidateVersion}\u0000${key}`, 'buffer').readUInt32BE(0) % ROLLOUT_BUCKETS
  );
}

/** Whether `caller` matches the rollout's rules and falls inside its percentage. */
export function inRollout(name: string, rollout: Rollout, caller: Caller): boolean {
  if (rollout.match) {
    for (const attribute in rollout.match) {
      const value = caller.attributes?.[attribute];
      if (value === undefined || !rollout.match[attribute]!.includes(value)) return false;
    }
  }
  return rolloutBucket(name, rollout.version, caller.key) < Math.round(rollout.percentage * 100);
}

/** The version `caller` should get under `pointer`; no caller gets stable. */
export function assignedVersion(pointer: Pointer, caller: Caller | undefined): number {
  const { candidate } = pointer;
  if (candidate === undefined || caller === undefined) return pointer.stable;
  return inRollout(pointer.name, candidate, caller) ? candidate.version : pointer.stable;
}

/** Checks a requested percentage (0-100, two decimals at most). */
export function checkPercentage(percentage: number): number {
  if (!Number.isFinite(percentage) || percentage < 0 || percentage > 100) {
    throw new InvalidRolloutError(`percentage ${percentage} is outside 0-100`);
  }
  if (Math.abs(Math.round(percentage * 100) - percentage * 100) > 1e-6) {
    throw new InvalidRolloutError(`percentage ${percentage} has more than two decimals`);
  }
  return percentage;
}

/**
 * Turns `k=v` pairs (the CLI's repeated `--match`) into rules: values of one attribute are
 * alternatives, different attributes must all match.
 *
 * @example parseMatchRules(['region=eu-west-1', 'region=eu-north-1', 'model=m-7'])
 * // { region: ['eu-west-1', 'eu-north-1'], model: ['m-7'] }
 */
export function parseMatchRules(pairs: readonly string[]): Record<string, string[]> {
  const rules: Record<string, string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const attribute = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (eq <= 0 || attribute === '' || value === '') {
      throw new InvalidRolloutError(`match rule "${pair}" is not of the form attribute=value`);
    }
    if (attribute === '__proto__')
      throw new InvalidRolloutError(`match rule "${pair}" names a reserved attribute`);
    const values = Object.hasOwn(rules, attribute) ? rules[attribute]! : [];
    if (!values.includes(value)) values.push(value);
    rules[attribute] = values;
  }
  return rules;
}
