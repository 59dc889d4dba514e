/**
 * The flags of `pipeline snapshot`: the ones every subcommand shares, and the parsers commander runs
 * on flag and argument values.
 */

import { InvalidArgumentError } from 'commander';
import { ALARM_STATES, type AlarmState } from '../../snapshots/index.ts';

/** The options of `pipeline snapshot`, shared by its subcommands. */
export interface SnapshotFlags {
  readonly table?: string;
  readonly stackFile: string;
  readonly name: string;
  readonly grantedTables?: readonly string[];
}

/** Parser of a percentage 0-100 (`--canary`, `--percentage`). */
export function percentage(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) {
    throw new InvalidArgumentError('expected a percentage 0-100');
  }
  return n;
}

/** Parser of a version number ≥ 1. */
export function version(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a version number ≥ 1');
  return n;
}

/** Parser of a whole number ≥ 0 (`prune --keep`). */
export function count(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

/** Parser of `--granted-tables`: comma-separated names, blanks dropped. */
export function tableList(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected one or more table names, comma-separated');
  return names;
}

/** Collects a repeatable flag (`--match`) into a list. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parser of a duration flag (`--every`, `--bake`, `--interval`): a whole number and one unit,
 * `500ms`, `30s`, `5m` or `1h`; the result is in milliseconds. Ranges are the caller's rule.
 */
export function duration(value: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError(
      'expected a duration: a whole number and a unit, such as 500ms, 30s, 5m or 1h',
    );
  }
  return ms;
}

/** Parser of a number flag whose range the library checks (`--step`). */
export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

/** Collects repeatable `--alarm-state <name>=<state>` flags. */
export function alarmState(value: string, previous: [string, AlarmState][]): [string, AlarmState][] {
  const eq = value.lastIndexOf('=');
  const name = value.slice(0, eq);
  const state = value.slice(eq + 1) as AlarmState;
  if (eq <= 0 || !ALARM_STATES.includes(state)) {
    throw new InvalidArgumentError(
      `expected <alarm name>=<state>, the state one of ${ALARM_STATES.join(', ')}`,
    );
  }
  return [...previous, [name, state]];
}
