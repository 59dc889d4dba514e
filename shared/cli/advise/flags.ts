/**
 * The flags of `pipeline advise`: their parsed shape, the parsers commander runs on their values,
 * the checks of combinations, and the `--routes` file.
 */

import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { PipelineError } from '../../core/errors.ts';
import { parsePipelineConfig } from '../../pipeline/config.ts';
import { type RoutesConfig, RoutesSchema } from '../../pipeline/routing.ts';
import { RoutesFileError, SourceReadError, UsageError } from '../errors.ts';
import { checkWorkloadSource } from '../send/flags.ts';
import type { KeyDistribution } from '../send/workload.ts';

export interface AdviseFlags {
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

/** A file and `--count`, neither, synthetic flags for a file, half of the GPU pair. */
export function checkAdviseFlags(
  file: string | undefined,
  flags: AdviseFlags,
  userSet: (name: string) => boolean,
): void {
  checkWorkloadSource(file, flags, userSet, { verb: 'analyse', input: 'JSONL sample' });
  if ((flags.gpuJobsPerSec === undefined) !== (flags.gpuTaskJobsPerSec === undefined)) {
    throw new UsageError(
      '--gpu-jobs-per-sec and --gpu-task-jobs-per-sec go together: the GPU advice needs both',
    );
  }
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
