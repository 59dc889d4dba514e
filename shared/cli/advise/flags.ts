/**
 * The flags of `pipeline advise`: their parsed shape, the parsers commander runs on their values,
 * the checks of combinations, and the `--routes` file.
 */

import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { PipelineError } from '../../core/errors.ts';
import { parsePipelineConfig } from '../../pipeline/config.ts';
import { type RoutesConfig, RoutesSchema } from '../../pipeline/routing.ts';
import { RoutesFileError, SourceReadError, UsageError } from '../errors.ts';
import {
  checkWorkloadSource,
  optionName,
  SYNTHETIC_FLAGS,
  type SyntheticWorkloadFlags,
} from '../send/flags.ts';
import { duration } from '../snapshot/flags.ts';

export interface AdviseFlags extends SyntheticWorkloadFlags {
  readonly rate?: number;
  readonly routes?: string;
  readonly versionedWrites: 'transaction' | 'conditional-put';
  readonly top: number;
  readonly strict?: boolean;
  readonly json?: boolean;
  readonly contextFile?: string;
  readonly report?: string;
  readonly gpuJobsPerSec?: number;
  readonly gpuTaskJobsPerSec?: number;
  /** Physical table whose items are scanned as the sample. */
  readonly fromTable?: string;
  /** Queue whose CloudWatch figures give the rate and burstiness. */
  readonly fromQueue?: string;
  /** Most items scanned from `--from-table`. */
  readonly sample: number;
  /** How far back the queue's figures go, in milliseconds. */
  readonly window: number;
  /** Logical table the scanned items are analysed as. */
  readonly logical?: string;
}

/** `--sample`'s range and default. */
export const SCAN_SAMPLE = { min: 1, max: 1_000_000, default: 10_000 } as const;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** `--window`'s range (SQS keeps messages 14 days at most) and default, in milliseconds. */
export const QUEUE_WINDOW_MS = { min: 5 * MINUTE_MS, max: 14 * DAY_MS, default: 60 * MINUTE_MS } as const;

/**
 * Refuses a file and `--count`, neither (nor `--from-table`), synthetic flags for a file or a table,
 * `--from-table` beside a file or `--count`, the scan's flags without `--from-table`, `--window`
 * without `--from-queue`, half of the GPU pair. `--rate` with `--from-queue` is allowed: it is the
 * target, and the queue still gives the burstiness.
 */
export function checkAdviseFlags(
  file: string | undefined,
  flags: AdviseFlags,
  userSet: (name: string) => boolean,
): void {
  if (flags.fromTable !== undefined) checkTableSource(file, flags, userSet);
  else {
    if (file === undefined && flags.count === undefined) {
      throw new UsageError(
        'nothing to analyse: give a JSONL sample, - for stdin, or --count <n> for a synthetic workload (or --from-table <table> to scan a live table)',
      );
    }
    checkWorkloadSource(file, flags, userSet, { verb: 'analyse', input: 'JSONL sample' });
    const typed = (['sample', 'logical'] as const).filter(userSet);
    if (typed.length > 0)
      throw new UsageError(
        `${typed.map(optionName).join(', ')} ${typed.length === 1 ? 'applies' : 'apply'} to --from-table only (a scan of a live table)`,
      );
  }
  if (userSet('window') && flags.fromQueue === undefined) {
    throw new UsageError('--window applies to --from-queue only (how far back its CloudWatch figures go)');
  }
  if ((flags.gpuJobsPerSec === undefined) !== (flags.gpuTaskJobsPerSec === undefined)) {
    throw new UsageError(
      '--gpu-jobs-per-sec and --gpu-task-jobs-per-sec go together: the GPU advice needs both',
    );
  }
}

function checkTableSource(
  file: string | undefined,
  flags: AdviseFlags,
  userSet: (name: string) => boolean,
): void {
  if (file !== undefined) {
    throw new UsageError(
      `give either a JSONL sample (${file}) or --from-table ${flags.fromTable}, not both: the scan is the sample`,
    );
  }
  if (flags.count !== undefined) {
    throw new UsageError(
      `give either --count for a synthetic workload or --from-table ${flags.fromTable}, not both: the scan is the sample`,
    );
  }
  const typed = SYNTHETIC_FLAGS.filter(userSet);
  if (typed.length > 0) {
    throw new UsageError(
      `${typed.map(optionName).join(', ')} apply to synthetic workloads (--count) only, not to --from-table (use --logical to name the logical table)`,
    );
  }
  if (flags.rate === undefined && flags.fromQueue === undefined) {
    throw new UsageError(
      `--from-table ${flags.fromTable} needs --rate <messages/s> or --from-queue <url>: a table scan has no timestamps to measure a rate from`,
    );
  }
}

/** Parser of `--window`: a whole number and a unit, `30m`, `6h` or `2d`, from 5m to 14d; in milliseconds. */
export function queueWindow(value: string): number {
  const days = /^(\d+)d$/.exec(value.trim());
  let ms: number;
  try {
    ms = days ? Number(days[1]) * DAY_MS : duration(value);
  } catch {
    ms = Number.NaN;
  }
  if (!(ms >= QUEUE_WINDOW_MS.min && ms <= QUEUE_WINDOW_MS.max)) {
    throw new InvalidArgumentError(
      'expected a duration from 5m to 14d: a whole number and s, m, h or d (e.g. 30m, 6h, 2d)',
    );
  }
  return ms;
}

/** Parser of `--from-queue`: an SQS queue URL (its last path segment is the queue's name). */
export function queueUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      'expected a queue URL, e.g. https://sqs.eu-west-1.amazonaws.com/123456789012/ingest',
    );
  }
  if (queueNameOf(url.href) === '') {
    throw new InvalidArgumentError('expected a queue URL whose path ends in the queue name');
  }
  return value;
}

/** The queue name in a queue URL: its last path segment. */
export function queueNameOf(url: string): string {
  return (
    new URL(url).pathname
      .split('/')
      .filter((part) => part !== '')
      .pop() ?? ''
  );
}

/** Parser of `--from-table`: a DynamoDB table name. */
export function physicalTableName(value: string): string {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) {
    throw new InvalidArgumentError('expected a DynamoDB table name: 3-255 characters of A-Z a-z 0-9 _ . -');
  }
  return value;
}

/** Parser of a number > 0 (`--rate`, the GPU rates). */
export function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('expected a number > 0');
  }
  return parsed;
}

/** Parser of `--versioned-writes`. */
export function versionedWrites(value: string): 'transaction' | 'conditional-put' {
  if (value === 'transaction' || value === 'conditional-put') return value;
  throw new InvalidArgumentError('expected transaction or conditional-put');
}

/**
 * The routing of a `--routes` file: a routing map (`TABLE_ROUTES`) or a pipeline config document
 * (`{ "routing": … }`, as `pipeline snapshot publish` takes it).
 */
export async function readRoutes(path: string, shown: string): Promise<RoutesConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SourceReadError(shown, (cause as Error).message, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new RoutesFileError(shown, `not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (json !== null && typeof json === 'object' && 'routing' in json) {
    try {
      return parsePipelineConfig(json).routing;
    } catch (cause) {
      if (!(cause instanceof PipelineError)) throw cause;
      throw new RoutesFileError(shown, cause.message, { cause });
    }
  }
  const parsed = RoutesSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new RoutesFileError(shown, `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
}

/** Adds how a sample is read and replayed (`--routes`, `--versioned-writes`, `--strict`): advise's and simulate's. */
export function withSampleAnalysisOptions(command: Command): Command {
  return command
    .option(
      '--routes <file>',
      'routing map (TABLE_ROUTES) or pipeline config document: key names, ops, shards',
    )
    .addOption(
      new Option('--versioned-writes <mode>', 'how the WriteBatcher sends versioned writes')
        .argParser(versionedWrites)
        .default('transaction'),
    )
    .option('--strict', 'fail on the first bad line instead of counting it');
}
