/**
 * The flags of `pipeline snapshot`: the ones every subcommand shares, and the parsers commander runs
 * on flag and argument values.
 */

import { InvalidArgumentError } from 'commander';

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
