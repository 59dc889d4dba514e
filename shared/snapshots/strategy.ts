import { InvalidRolloutStrategyError } from './errors.ts';
import type { Rollout, RolloutGrowth, RolloutStrategy } from './types.ts';

/** The ranges a rollout strategy must keep to (AppConfig's where it has one). */
export const rolloutLimits = {
  /** The deployed controller runs once a minute: a shorter step could not be kept. */
  minEveryMs: 60_000,
  maxEveryMs: 24 * 3_600_000,
  /** AppConfig's longest final bake time. */
  maxBakeMs: 24 * 3_600_000,
  /** Longest time from the canary to 100% (steps × every), as AppConfig's deployment duration. */
  maxStepsMs: 24 * 3_600_000,
  /** One DescribeAlarms request (it takes up to 100 names) with room to spare. */
  maxAlarms: 10,
  /** CloudWatch's limit on an alarm name. */
  maxAlarmNameLength: 255,
} as const;

/** What starts an automated rollout; the canary is the candidate's percentage when it starts. */
export interface RolloutStrategyRequest {
  /** @default 'linear' */
  readonly growth?: RolloutGrowth;
  /** Linear: points added per step; exponential: growth per step in percent of the current share. 0 < step ≤ 100. */
  readonly stepPercent: number;
  /** Time between steps, 1 minute to 24 hours. */
  readonly everyMs: number;
  /** Time at 100% before the candidate is promoted, 0 to 24 hours. */
  readonly bakeMs: number;
  /** CloudWatch alarm names (not ARNs) that roll the candidate back when in ALARM. @default none */
  readonly alarms?: readonly string[];
}

/**
 * Checks a strategy request against `rolloutLimits` and stamps its start: `startedAt` and
 * `lastStepAt` are `now`. Throws `InvalidRolloutStrategyError` naming the field, the value and the rule.
 */
export function planStrategy(
  canaryPercent: number,
  request: RolloutStrategyRequest,
  now: Date,
  match?: Rollout['match'],
): RolloutStrategy {
  if (match !== undefined && Object.keys(match).length > 0) {
    throw new InvalidRolloutStrategyError(
      'match',
      match,
      'an automated rollout serves every caller: after the bake it would jump from the matching callers to everyone; drop the match rules or roll out by hand',
    );
  }
  const growth = request.growth ?? 'linear';
  if (growth !== 'linear' && growth !== 'exponential') {
    throw new InvalidRolloutStrategyError('growth', growth, "use 'linear' or 'exponential'");
  }
  checkShare('canaryPercent', canaryPercent);
  checkShare('stepPercent', request.stepPercent);
  checkDuration('everyMs', request.everyMs, rolloutLimits.minEveryMs, rolloutLimits.maxEveryMs);
  checkDuration('bakeMs', request.bakeMs, 0, rolloutLimits.maxBakeMs);
  const alarms = checkAlarms(request.alarms ?? []);
  const strategy: RolloutStrategy = {
    growth,
    canaryPercent,
    stepPercent: request.stepPercent,
    everyMs: request.everyMs,
    bakeMs: request.bakeMs,
    alarms,
    startedAt: now.toISOString(),
    lastStepAt: now.toISOString(),
  };
  const stepsMs = stepsToFull(strategy, canaryPercent) * strategy.everyMs;
  if (stepsMs > rolloutLimits.maxStepsMs) {
    throw new InvalidRolloutStrategyError(
      'stepPercent',
      request.stepPercent,
      `from ${canaryPercent}% it takes ${stepsToFull(strategy, canaryPercent)} steps of ${strategy.everyMs} ms to reach 100%, over the ${rolloutLimits.maxStepsMs} ms limit; take bigger or more frequent steps`,
    );
  }
  return strategy;
}

/** The percentage after one more step from `current`: never above 100, always at least 0.01 higher. */
export function nextPercentage(
  strategy: Pick<RolloutStrategy, 'growth' | 'stepPercent'>,
  current: number,
): number {
  const grown =
    strategy.growth === 'exponential'
      ? current * (1 + strategy.stepPercent / 100)
      : current + strategy.stepPercent;
  return Math.min(100, Math.max(round2(grown), round2(current + 0.01)));
}

/** How many steps take the share from `from` to 100%. */
export function stepsToFull(strategy: Pick<RolloutStrategy, 'growth' | 'stepPercent'>, from: number): number {
  let steps = 0;
  for (let pct = from; pct < 100; pct = nextPercentage(strategy, pct)) steps++;
  return steps;
}

/** `stepping` below 100%, `baking` at 100%; `undefined` for a candidate moved by hand. */
export function rolloutPhase(candidate: Rollout | undefined): 'stepping' | 'baking' | undefined {
  if (candidate?.strategy === undefined) return undefined;
  return candidate.percentage >= 100 ? 'baking' : 'stepping';
}

/** When the controller next moves the candidate if every alarm stays clear: the next step, or the end of the bake. */
export function nextMoveAt(candidate: Rollout & { readonly strategy: RolloutStrategy }): Date {
  const { strategy } = candidate;
  const wait = candidate.percentage >= 100 ? strategy.bakeMs : strategy.everyMs;
  return new Date(Date.parse(strategy.lastStepAt) + wait);
}

/** Checks one CloudWatch alarm name; `field` is where it was given (`alarms[0]`). */
export function checkAlarmName(name: string, field: string): string {
  const rule = `use a CloudWatch alarm name of 1-${rolloutLimits.maxAlarmNameLength} characters without control characters or surrounding spaces`;
  if (typeof name !== 'string' || name.length === 0 || name.length > rolloutLimits.maxAlarmNameLength) {
    throw new InvalidRolloutStrategyError(field, name, rule);
  }
  if (name.startsWith('arn:')) {
    const short = name.slice(name.lastIndexOf(':alarm:') + ':alarm:'.length);
    throw new InvalidRolloutStrategyError(field, name, `pass the alarm's name ("${short}"), not its ARN`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name) {
    throw new InvalidRolloutStrategyError(field, name, rule);
  }
  return name;
}

function checkAlarms(alarms: readonly string[]): string[] {
  if (!Array.isArray(alarms))
    throw new InvalidRolloutStrategyError('alarms', alarms, 'use a list of alarm names');
  const unique = [...new Set(alarms.map((name, i) => checkAlarmName(name, `alarms[${i}]`)))];
  if (unique.length > rolloutLimits.maxAlarms) {
    throw new InvalidRolloutStrategyError(
      'alarms',
      unique.length,
      `name at most ${rolloutLimits.maxAlarms} alarms (a composite alarm can combine more)`,
    );
  }
  return unique;
}

function checkShare(field: string, value: number): void {
  const rule = 'use a percentage above 0 and at most 100, with at most two decimals';
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 100) {
    throw new InvalidRolloutStrategyError(field, value, rule);
  }
  if (Math.abs(Math.round(value * 100) - value * 100) > 1e-6)
    throw new InvalidRolloutStrategyError(field, value, rule);
}

function checkDuration(field: string, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidRolloutStrategyError(
      field,
      value,
      `use a whole number of milliseconds from ${min} (${human(min)}) to ${max} (${human(max)})`,
    );
  }
}

function human(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
