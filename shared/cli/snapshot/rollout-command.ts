/**
 * `pipeline snapshot rollout …`: automate a candidate (start, stop), see where it is (status), and
 * run the rollout controller from here (tick, watch) with the same core the deployed one runs.
 */

import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Command, Option } from 'commander';
import {
  type AlarmState,
  type AlarmStateSource,
  CloudWatchAlarmStates,
  describeAlarmsWith,
  InvalidRolloutStrategyError,
  type RolloutStrategyRequest,
  SnapshotNotFoundError,
  SnapshotRolloutController,
  type TickResult,
} from '../../snapshots/index.ts';
import { CliError, UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { snapshotAction } from './action.ts';
import { GivenAlarmStates } from './alarm-states.ts';
import type { SnapshotCommandDeps, SnapshotContext } from './context.ts';
import { alarmState, collect, duration, number } from './flags.ts';
import { describePointer, describeRollout, describeTick } from './format.ts';

/** The strategy flags of `publish` and `rollout start`, as commander parsed them. */
export interface StrategyFlags {
  readonly step?: number;
  readonly every?: number;
  readonly bake?: number;
  readonly alarm: string[];
  readonly growth?: 'linear' | 'exponential';
}

/** Adds the strategy flags to `command` (`publish`, `rollout start`). */
export function withStrategyFlags(command: Command): Command {
  return command
    .option(
      '--step <pct>',
      'automate it: raise the percentage by this much per step (exponential: by this % of itself)',
      number,
    )
    .option('--every <duration>', 'automated: time between steps (1m to 24h, e.g. 5m)', duration)
    .option(
      '--bake <duration>',
      'automated: time at 100% before promotion, alarms still watched (0s to 24h)',
      duration,
    )
    .option(
      '--alarm <name>',
      'automated: roll back when this CloudWatch alarm is in ALARM (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option('--growth <kind>', 'automated: how the percentage grows').choices(['linear', 'exponential']),
    );
}

/** The strategy the flags ask for; `undefined` when none was asked for. Throws `UsageError` for a partial one. */
export function strategyOf(flags: StrategyFlags): RolloutStrategyRequest | undefined {
  const given =
    [flags.step, flags.every, flags.bake, flags.growth].some((v) => v !== undefined) ||
    flags.alarm.length > 0;
  if (!given) return undefined;
  const missing = (['step', 'every', 'bake'] as const)
    .filter((f) => flags[f] === undefined)
    .map((f) => `--${f}`);
  if (missing.length > 0) throw new UsageError(`an automated rollout needs ${missing.join(', ')} too`);
  return {
    stepPercent: flags.step!,
    everyMs: flags.every!,
    bakeMs: flags.bake!,
    alarms: flags.alarm,
    ...(flags.growth ? { growth: flags.growth } : {}),
  };
}

/** A strategy value the library refused, named by the flag it came from. */
export class RolloutFlagError extends CliError {
  readonly code = 'INVALID_ROLLOUT_STRATEGY';
  constructor(cause: InvalidRolloutStrategyError) {
    const flag = FLAG_OF[cause.field.replace(/\[\d+\]$/, '')] ?? cause.field;
    super(`${flag}: ${cause.message}`, { cause });
  }
}

const FLAG_OF: Record<string, string> = {
  canaryPercent: '--canary',
  stepPercent: '--step',
  everyMs: '--every',
  bakeMs: '--bake',
  alarms: '--alarm',
  growth: '--growth',
  match: '--match',
};

/** Runs `work`, naming the flag behind a strategy error. */
export async function namingStrategyFlags<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidRolloutStrategyError) throw new RolloutFlagError(error);
    throw error;
  }
}

/** `rollout watch` ended with the candidate rolled back: exit status 1, the reason printed. */
export class RolledBackError extends CliError {
  readonly code = 'ROLLED_BACK';
  override readonly exitCode = 1;
}

interface ControllerFlags {
  readonly cloudwatch?: boolean;
  readonly alarmState: [string, AlarmState][];
  readonly alarmStates?: string;
  readonly unknownAlarmsRollback: number;
}

/** `rollout` and its subcommands, with `parent`'s settings (exit override, output). */
export function rolloutCommand(parent: Command, io: CliIo, deps: SnapshotCommandDeps): Command {
  const run = (action: (ctx: SnapshotContext, ...args: never[]) => Promise<void>) =>
    snapshotAction(io, deps, action);
  const rollout = new Command('rollout')
    .copyInheritedSettings(parent)
    .description(
      'Automated rollouts: step a candidate to 100%, bake, promote; roll back when an alarm is in ALARM',
    );

  withStrategyFlags(
    rollout.command('start').description('Automate the current candidate from its percentage'),
  ).action(
    run(async (ctx, flags: StrategyFlags) => {
      const strategy = strategyOf(flags);
      if (strategy === undefined) throw new UsageError('rollout start needs --step, --every and --bake');
      const pointer = await namingStrategyFlags(() =>
        ctx.publisher.startRollout(ctx.name, strategy, { source: 'cli' }),
      );
      io.stdout.write(`automated: ${describePointer(pointer)}\n${describeRollout(pointer).join('\n')}\n`);
    }),
  );

  rollout
    .command('stop')
    .description('Stop automating the candidate; it stays at its percentage')
    .action(
      run(async (ctx) => {
        const pointer = await ctx.publisher.stopRollout(ctx.name, { source: 'cli' });
        io.stdout.write(`stopped: ${describePointer(pointer)}\n`);
      }),
    );

  rollout
    .command('status')
    .description('Where the rollout is: percentage, phase, next move, the last rollout and how it ended')
    .action(
      run(async (ctx) => {
        const pointer = await ctx.publisher.store.getPointer(ctx.name);
        if (pointer === undefined) throw new SnapshotNotFoundError(ctx.name);
        io.stdout.write(`${[describePointer(pointer), ...describeRollout(pointer)].join('\n')}\n`);
      }),
    );

  withControllerFlags(rollout.command('tick').description('Run one controller step now')).action(
    run(async (ctx, flags: ControllerFlags) => {
      await withController(ctx, flags, async (tick) => {
        io.stdout.write(`${describeTick(await tick())}\n`);
      });
    }),
  );

  withControllerFlags(
    rollout.command('watch').description('Run the controller every --interval until the rollout ends'),
  )
    .option('--interval <duration>', 'time between ticks (at least 1s)', duration, 30_000)
    .action(
      run(async (ctx, flags: ControllerFlags & { interval: number }) => {
        if (flags.interval < 1000) throw new UsageError('--interval must be at least 1s');
        const wait =
          deps.sleep ??
          ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }).catch(() => undefined));
        await withController(ctx, flags, async (tick) => {
          let last = '';
          while (!io.signal?.aborted) {
            const result = await tick();
            const line = describeTick(result);
            if (line !== last) io.stdout.write(`${line}\n`);
            last = line;
            const { action } = result;
            if (action.kind === 'rollback') throw new RolledBackError(line);
            if (action.kind === 'promote' || (action.kind === 'none' && action.reason === 'no-rollout'))
              return;
            await wait(flags.interval, io.signal);
          }
        });
      }),
    );
  return rollout;
}

function withControllerFlags(command: Command): Command {
  return command
    .option(
      '--alarm-state <name=state>',
      'an alarm state to use (OK, ALARM, INSUFFICIENT_DATA; repeatable)',
      alarmState,
      [],
    )
    .option('--alarm-states <file>', 'JSON file of alarm name → state, read again before every tick')
    .option(
      '--cloudwatch',
      'read alarm states from CloudWatch DescribeAlarms (AWS credentials and region) instead',
    )
    .option(
      '--unknown-alarms-rollback <duration>',
      'roll back once named alarms have had no state this long',
      duration,
      300_000,
    );
}

/**
 * Runs `work` with a tick of the rollout controller over the context's store. Alarm states come
 * from CloudWatch with `--cloudwatch` (DescribeAlarms with the SDK's usual credentials and region),
 * else only from `--alarm-state`/`--alarm-states` (the file is read again before every tick): an
 * alarm given neither way is unknown, so the rollout holds.
 */
async function withController(
  ctx: SnapshotContext,
  flags: ControllerFlags,
  work: (tick: () => Promise<TickResult>) => Promise<void>,
): Promise<void> {
  if (flags.cloudwatch && (flags.alarmState.length > 0 || flags.alarmStates !== undefined)) {
    throw new UsageError(
      '--cloudwatch reads every alarm from CloudWatch: leave out --alarm-state and --alarm-states',
    );
  }
  const given = !flags.cloudwatch;
  const file = flags.alarmStates === undefined ? undefined : resolve(ctx.cwd, flags.alarmStates);
  const states = given ? new GivenAlarmStates(flags.alarmState, file) : undefined;
  const cloudWatch = given ? undefined : new CloudWatchClient({});
  const alarms: AlarmStateSource =
    states ?? new CloudWatchAlarmStates({ describeAlarms: describeAlarmsWith(cloudWatch!) });
  const controller = new SnapshotRolloutController({
    store: ctx.publisher.store,
    alarms,
    clock: ctx.clock,
    unknownAlarmsRollbackMs: flags.unknownAlarmsRollback,
    source: 'cli:rollout-controller',
  });
  try {
    await work(async () => {
      await states?.load();
      return controller.tick(ctx.name);
    });
  } finally {
    cloudWatch?.destroy();
  }
}
