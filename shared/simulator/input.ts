/** What a simulation takes, checked once (a zod schema), with its defaults applied. */

import { z } from 'zod';
import type { CapacityOptions } from './dynamodb.ts';
import { InvalidSimulationError } from './errors.ts';
import type { GpuInput } from './gpu.ts';
import {
  awsServiceTimes,
  defaultPipelineSettings,
  type PipelineSettings,
  type ServiceTimes,
} from './settings.ts';
import { type SimWorkload, uniformWorkload } from './workload.ts';

export interface SimulationInput {
  /** @default defaultPipelineSettings (what the templates hold by default) */
  readonly settings?: PipelineSettings;
  /** @default uniformWorkload(): 1 WCU a message, no duplicates, no hot key */
  readonly workload?: SimWorkload;
  /** @default awsServiceTimes */
  readonly service?: ServiceTimes;
  /** Mean arrival rate, messages/s. */
  readonly ratePerSec: number;
  /** Seconds messages arrive for. */
  readonly durationSeconds: number;
  /** Seconds simulated after the arrivals stop, to drain the queue (stops early once it is empty). @default 0 */
  readonly drainSeconds?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Time step, ms. @default 10 */
  readonly stepMs?: number;
  /** Stop arriving after this many messages. @default no limit */
  readonly maxMessages?: number;
  /** Messages already queued at the start. @default 0 */
  readonly initialBacklog?: number;
  /** Rate multipliers per second, repeated (a sample's shape over time). @default steady */
  readonly profile?: readonly number[];
  readonly capacity?: CapacityOptions;
  /** The GPU tier's load; absent: not simulated. */
  readonly gpu?: GpuInput;
}

const Schema = z.object({
  ratePerSec: z.number().min(0).max(10_000_000),
  durationSeconds: z
    .number()
    .gt(0)
    .max(7 * 24 * 3600),
  drainSeconds: z
    .number()
    .min(0)
    .max(7 * 24 * 3600)
    .default(0),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(1),
  stepMs: z.number().min(1).max(1000).default(10),
  maxMessages: z.number().int().min(0).optional(),
  initialBacklog: z.number().int().min(0).default(0),
  profile: z.array(z.number().min(0)).optional(),
});

export interface ResolvedRun {
  readonly settings: PipelineSettings;
  readonly workload: SimWorkload;
  readonly service: ServiceTimes;
  readonly ratePerSec: number;
  readonly seed: number;
  readonly stepMs: number;
  readonly arrivalEndMs: number;
  readonly endMs: number;
  readonly maxMessages: number;
  readonly initialBacklog: number;
  readonly ratePerMs: (nowMs: number) => number;
  readonly capacity: CapacityOptions;
  readonly gpu?: GpuInput;
}

/** @throws InvalidSimulationError naming the first bad option and its rule. */
export function checkInput(input: SimulationInput): ResolvedRun {
  const parsed = Schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const option = issue.path.map(String).join('.') || '(input)';
    const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k], input);
    throw new InvalidSimulationError(option, value, issue.message);
  }
  const r = parsed.data;
  if (r.profile !== undefined && (r.profile.length === 0 || r.profile.every((m) => m === 0)))
    throw new InvalidSimulationError(
      'profile',
      `[${r.profile.join(',')}]`,
      'give at least one multiplier > 0',
    );
  const profile = r.profile;
  const mean = profile ? profile.reduce((s, m) => s + m, 0) / profile.length : 1;
  const perMs = r.ratePerSec / 1000;
  const ratePerMs = profile
    ? (now: number) => (perMs * profile[Math.floor(now / 1000) % profile.length]!) / mean
    : () => perMs;
  const arrivalEndMs = r.durationSeconds * 1000;
  return {
    settings: input.settings ?? defaultPipelineSettings,
    workload: input.workload ?? uniformWorkload(),
    service: input.service ?? awsServiceTimes,
    ratePerSec: r.ratePerSec,
    seed: r.seed,
    stepMs: r.stepMs,
    arrivalEndMs,
    endMs: arrivalEndMs + r.drainSeconds * 1000,
    maxMessages: r.maxMessages ?? Number.POSITIVE_INFINITY,
    initialBacklog: r.initialBacklog,
    ratePerMs,
    capacity: input.capacity ?? {},
    ...(input.gpu ? { gpu: input.gpu } : {}),
  };
}
