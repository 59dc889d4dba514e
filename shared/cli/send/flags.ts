/**
 * The flags of `pipeline send`: their parsed shape, the parsers commander runs on their values, and
 * the checks of combinations no single parser can see.
 */

import { type Command, InvalidArgumentError, Option } from 'commander';
import { validateMessage } from '../../contract/index.ts';
import { writePathSettings } from '../../pipeline/settings.ts';
import { groupIdProblem, sqsLimits } from '../../sqs/index.ts';
import { UsageError } from '../errors.ts';
import type { QueueFlags } from './queue.ts';
import type { TenantFlags } from './tenant.ts';
import type { KeyDistribution, WorkloadOptions } from './workload.ts';

/** The flags `withSyntheticWorkloadOptions` adds, as commander parses them. */
export interface SyntheticWorkloadFlags {
  readonly count?: number;
  readonly keyDist: KeyDistribution;
  readonly keys: number;
  readonly itemBytes: number;
  readonly versions?: boolean;
  readonly shuffleVersions?: boolean;
  readonly invalidRate: number;
  readonly table?: string;
  readonly seed: number;
}

/** The synthetic workload the flags ask for (`--count` given). */
export function syntheticWorkloadOf(flags: SyntheticWorkloadFlags): WorkloadOptions {
  return {
    count: flags.count!,
    keys: flags.keys,
    keyDistribution: flags.keyDist,
    itemBytes: flags.itemBytes,
    versions: flags.versions === true,
    shuffleVersions: flags.shuffleVersions === true,
    invalidRate: flags.invalidRate,
    table: flags.table,
    seed: flags.seed,
  };
}

/** The options of `pipeline send`, as commander parses them. */
export interface SendFlags extends QueueFlags, TenantFlags, SyntheticWorkloadFlags {
  readonly concurrency: number;
  readonly maxDelayMs: number;
  readonly fifoGroups?: number;
  readonly json?: boolean;
  readonly quiet?: boolean;
  /** The caller's W3C trace context, put on every message (under the run's own span when exporting). */
  readonly traceparent?: string;
}

/** The flags of a synthetic workload (`--count`), refused beside a file. */
export const SYNTHETIC_FLAGS = [
  'keyDist',
  'keys',
  'itemBytes',
  'versions',
  'shuffleVersions',
  'invalidRate',
  'table',
  'seed',
] as const satisfies readonly (keyof SendFlags)[];

/** Attributes of a synthetic item a `--tenant-key` can name (`data` is padding). */
export const SYNTHETIC_TENANT_KEYS = [
  writePathSettings.table.partitionKey,
  writePathSettings.table.sortKey,
  'seq',
] as const;

/** Most distinct keys of a synthetic workload. */
export const MAX_KEYS = 10_000_000;
/** Largest synthetic item: room is left for the message envelope around it. */
export const MAX_ITEM_BYTES = sqsLimits.maxMessageBytes - 1024;

/**
 * Refuses flag combinations: a file and `--count`, neither, synthetic flags typed for a file
 * (`userSet` says a flag was typed, not defaulted), `--shuffle-versions` without `--versions`.
 */
export function checkSourceFlags(
  file: string | undefined,
  flags: SendFlags,
  userSet: (name: string) => boolean,
): void {
  checkWorkloadSource(file, flags, userSet, { verb: 'send', input: 'JSONL file' });
  const tenantKeys: readonly string[] = SYNTHETIC_TENANT_KEYS;
  if (file === undefined && flags.tenantKey !== undefined && !tenantKeys.includes(flags.tenantKey)) {
    throw new UsageError(
      `--tenant-key ${flags.tenantKey}: synthetic items have no such attribute; use one of ${tenantKeys.join(', ')} (e.g. ${tenantKeys[0]} with --key-dist zipf:<s> for noisy tenants)`,
    );
  }
}

/**
 * Refuses tenant flags for a FIFO queue: its MessageGroupId is the ordering group (`--fifo-groups`),
 * and tenants (SQS fair queues) are for standard queues.
 */
export function checkTenantFlags(flags: TenantFlags, queueUrl: string, fifo: boolean): void {
  const given = flags.tenant !== undefined ? '--tenant' : flags.tenantKey !== undefined ? '--tenant-key' : '';
  if (fifo && given) {
    throw new UsageError(
      `${given} applies to standard queues (SQS fair queues) only; ${queueUrl} is a FIFO queue, whose message groups come from --fifo-groups`,
    );
  }
}

/** Parser of an integer flag in `min..max`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
      throw new InvalidArgumentError(`expected an integer ${range}`);
    }
    return parsed;
  };
}

/** Parser of a fraction from 0 to 1 (`--invalid-rate`). */
export function rate(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new InvalidArgumentError('expected a number from 0 to 1');
  }
  return parsed;
}

/** Parser of `--key-dist`: `uniform` or `zipf:<s>`. */
export function keyDistribution(value: string): KeyDistribution {
  if (value === 'uniform') return { kind: 'uniform' };
  const match = /^zipf:(.+)$/.exec(value);
  const s = Number(match?.[1]);
  if (!match || !Number.isFinite(s) || s < 0) {
    throw new InvalidArgumentError('expected uniform or zipf:<s> with s ≥ 0 (e.g. zipf:1.1)');
  }
  return { kind: 'zipf', s };
}

/** Parser of `--tenant`: a MessageGroupId SQS accepts. */
export function tenantId(value: string): string {
  const problem = groupIdProblem(value);
  if (problem)
    throw new InvalidArgumentError(`expected 1-128 letters, digits and ASCII punctuation; ${problem}`);
  return value;
}

/** Parser of `--tenant-key`: an attribute name. */
export function attributeName(value: string): string {
  if (value.length === 0) throw new InvalidArgumentError('expected an attribute name');
  return value;
}

/** Parser of `--table`: a logical table name the contract accepts. */
export function tableName(value: string): string {
  try {
    validateMessage({ op: 'delete', table: value, key: { pk: 'k' } });
  } catch {
    throw new InvalidArgumentError('expected 1-64 characters of A-Z a-z 0-9 _ . -');
  }
  return value;
}

/** The flags every workload source takes: a file, or `--count` and the synthetic workload's own flags. */
export interface WorkloadSourceFlags {
  readonly count?: number;
  readonly versions?: boolean;
  readonly shuffleVersions?: boolean;
}

/**
 * Refuses the source combinations every workload command (`send`, `advise`) refuses: a file and
 * `--count`, neither, synthetic flags typed for a file (`userSet` says a flag was typed, not
 * defaulted), `--shuffle-versions` without `--versions`. `wording` names the command's verb and input.
 */
export function checkWorkloadSource(
  file: string | undefined,
  flags: WorkloadSourceFlags,
  userSet: (name: string) => boolean,
  wording: { readonly verb: string; readonly input: string },
): void {
  const { verb, input } = wording;
  if (file !== undefined && flags.count !== undefined) {
    throw new UsageError(
      `give either a ${input} (or - for stdin) or --count for a synthetic workload, not both`,
    );
  }
  if (file === undefined && flags.count === undefined) {
    throw new UsageError(
      `nothing to ${verb}: give a ${input}, - for stdin, or --count <n> for a synthetic workload`,
    );
  }
  if (file !== undefined) {
    const typed = SYNTHETIC_FLAGS.filter(userSet);
    if (typed.length > 0) {
      const names = typed.map(optionName);
      throw new UsageError(`${names.join(', ')} apply to synthetic workloads (--count) only, not to ${file}`);
    }
  }
  if (flags.shuffleVersions && !flags.versions) {
    throw new UsageError('--shuffle-versions needs --versions (there is no version order to shuffle)');
  }
}

/** The flag a camel-case option name is typed as: `keyDist` → `--key-dist`. */
export function optionName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Adds the synthetic workload's flags (`--count` and what shapes it) to a workload command. */
export function withSyntheticWorkloadOptions(
  command: Command,
  descriptions: { readonly seed?: string } = {},
): Command {
  return command
    .option('--count <n>', 'synthetic: number of messages', integer(1))
    .addOption(
      new Option('--key-dist <dist>', 'synthetic: uniform or zipf:<s>')
        .argParser(keyDistribution)
        .default({ kind: 'uniform' }, 'uniform'),
    )
    .option('--keys <n>', 'synthetic: distinct keys', integer(1, MAX_KEYS), 1000)
    .option('--item-bytes <n>', "synthetic: bytes of each item's JSON", integer(1, MAX_ITEM_BYTES), 200)
    .option('--versions', 'synthetic: version every message, 1, 2, 3… per key')
    .option('--shuffle-versions', 'synthetic: versions out of order (needs --versions)')
    .option('--invalid-rate <r>', 'synthetic: fraction (0..1) the batch writer must reject', rate, 0)
    .option('--table <logical>', 'synthetic: logical table (default: the default table)', tableName)
    .option('--seed <n>', descriptions.seed ?? 'synthetic: PRNG seed', integer(0, 2 ** 32 - 1), 1);
}
