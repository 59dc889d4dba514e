import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import {
  functionOption,
  integerOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
  textOption,
} from '../core/options.ts';
import type { AlarmReadout, AlarmStateSource } from './alarms.ts';
import { decideRollout, type RolloutAction } from './controller.ts';
import { SnapshotConflictError } from './errors.ts';
import { SNAPSHOT_ROLLOUT_METRICS } from './metric-names.ts';
import type { Pointer, SnapshotStore } from './types.ts';

export interface SnapshotRolloutControllerOptions {
  readonly store: SnapshotStore;
  /** Where alarm states come from: CloudWatch on AWS, given states locally. */
  readonly alarms: AlarmStateSource;
  /** Roll back once a rollout's alarms have been unknown (missing, unreadable) this long. @default 300_000 (5 min) */
  readonly unknownAlarmsRollbackMs?: number;
  /** Recorded as the pointer's `updatedBy`. @default 'rollout-controller' */
  readonly source?: string;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  /** Gets `SNAPSHOT_ROLLOUT_METRICS`. */
  readonly metrics?: Pick<Metrics, 'addMetric'>;
}

/** `SnapshotRolloutControllerOptions` checked, with the defaults documented there applied. */
export const SnapshotRolloutControllerOptionsSchema = z.object({
  store: objectOption<SnapshotStore>('a SnapshotStore'),
  alarms: objectOption<AlarmStateSource>('an AlarmStateSource'),
  unknownAlarmsRollbackMs: integerOption(0, 86_400_000).default(300_000),
  source: textOption('a non-empty source').default('rollout-controller'),
  clock: functionOption<() => Date>().default(() => () => new Date()),
  logger: objectOption<Pick<Logger, 'info' | 'warn'>>('a logger with info() and warn()').optional(),
  metrics: objectOption<Pick<Metrics, 'addMetric'>>('a Powertools Metrics instance').optional(),
}) satisfies OptionsSchema<SnapshotRolloutControllerOptions>;

/** A tick that lost the conditional write: someone changed the pointer since it was read. */
export interface ConflictAction {
  readonly kind: 'conflict';
  readonly expectedGeneration: number;
  readonly actualGeneration: number | undefined;
}

/** What one tick did for one snapshot name. */
export interface TickResult {
  readonly name: string;
  readonly action: RolloutAction | ConflictAction;
  /** The pointer it wrote, or (nothing written) the one it read. */
  readonly pointer: Pointer | undefined;
  /** Alarms it could not read, with why; empty when it read them all or needed none. */
  readonly unknownAlarms: ReadonlyMap<string, string>;
}

/**
 * Moves automated rollouts on: reads the pointer, asks the alarm source about exactly the alarms
 * the strategy names, decides (`decideRollout`) and writes the next pointer conditionally on the
 * generation it read. A concurrent change (a person's promote or rollback, another controller) wins:
 * the tick then writes nothing and reports a conflict; the next tick starts from the new pointer.
 *
 * @example
 * const controller = new SnapshotRolloutController({ store, alarms: new CloudWatchAlarmStates({ describeAlarms }) });
 * await controller.tick('pipeline');
 */
export class SnapshotRolloutController {
  private readonly store: SnapshotStore;
  private readonly alarms: AlarmStateSource;
  private readonly unknownAlarmsRollbackMs: number;
  private readonly source: string;
  private readonly clock: () => Date;
  private readonly logger: Pick<Logger, 'info' | 'warn'> | undefined;
  private readonly metrics: Pick<Metrics, 'addMetric'> | undefined;

  /** @throws InvalidOptionError when an option is out of range (the message names it and the rule). */
  constructor(options: SnapshotRolloutControllerOptions) {
    const resolved = parseOptions(
      'SnapshotRolloutController',
      SnapshotRolloutControllerOptionsSchema,
      options,
    );
    this.store = resolved.store;
    this.alarms = resolved.alarms;
    this.unknownAlarmsRollbackMs = resolved.unknownAlarmsRollbackMs;
    this.source = resolved.source;
    this.clock = resolved.clock;
    this.logger = resolved.logger;
    this.metrics = resolved.metrics;
  }

  /** One controller step for `name`, now. Rejects only when the store fails (a conflict is a result). */
  async tick(name: string): Promise<TickResult> {
    const pointer = await this.store.getPointer(name);
    const alarms = pointer?.candidate?.strategy?.alarms ?? [];
    const readout = alarms.length === 0 ? EMPTY : await this.readAlarms(name, alarms);
    const unknownAlarms = new Map(
      alarms.filter((a) => !readout.states.has(a)).map((a) => [a, readout.unknown.get(a) ?? 'not found']),
    );
    const change = { at: this.clock(), by: this.source };
    const { action, next } = decideRollout(pointer, readout, change, {
      unknownAlarmsRollbackMs: this.unknownAlarmsRollbackMs,
    });
    if (unknownAlarms.size > 0) {
      this.metrics?.addMetric(
        SNAPSHOT_ROLLOUT_METRICS.RolloutAlarmsUnknown,
        MetricUnit.Count,
        unknownAlarms.size,
      );
      this.logger?.warn('rollout alarms unknown: the rollout does not advance', {
        snapshot: name,
        unknown: Object.fromEntries(unknownAlarms),
      });
    }
    if (next === undefined) return { name, action, pointer, unknownAlarms };
    try {
      await this.store.swapPointer(next, pointer!.generation);
    } catch (error) {
      if (!(error instanceof SnapshotConflictError)) throw error;
      this.metrics?.addMetric(SNAPSHOT_ROLLOUT_METRICS.RolloutConflicts, MetricUnit.Count, 1);
      this.logger?.info('the pointer changed during the tick; leaving it to the newer change', {
        snapshot: name,
        expectedGeneration: pointer!.generation,
        actualGeneration: error.actualGeneration,
      });
      const conflict: ConflictAction = {
        kind: 'conflict',
        expectedGeneration: pointer!.generation,
        actualGeneration: error.actualGeneration,
      };
      return { name, action: conflict, pointer, unknownAlarms };
    }
    this.report(name, action, next);
    return { name, action, pointer: next, unknownAlarms };
  }

  private async readAlarms(name: string, alarms: readonly string[]): Promise<AlarmReadout> {
    try {
      return await this.alarms.read(alarms);
    } catch (error) {
      // Cannot see: hold (and, past the limit, roll back) rather than advance blind.
      this.logger?.warn('reading rollout alarms failed', { snapshot: name, error });
      const reason = `reading alarms failed: ${error instanceof Error ? error.message : String(error)}`;
      return { states: new Map(), unknown: new Map(alarms.map((a) => [a, reason])) };
    }
  }

  private report(name: string, action: RolloutAction, next: Pointer): void {
    const context = { snapshot: name, generation: next.generation, ...action };
    switch (action.kind) {
      case 'advance':
        this.metrics?.addMetric(SNAPSHOT_ROLLOUT_METRICS.RolloutStepped, MetricUnit.Count, 1);
        this.logger?.info('rollout stepped', context);
        break;
      case 'promote':
        this.metrics?.addMetric(SNAPSHOT_ROLLOUT_METRICS.RolloutPromoted, MetricUnit.Count, 1);
        this.logger?.info('rollout promoted after its bake', context);
        break;
      case 'rollback':
        this.metrics?.addMetric(SNAPSHOT_ROLLOUT_METRICS.RolloutRolledBack, MetricUnit.Count, 1);
        this.logger?.warn('rollout rolled back', context);
        break;
      default:
        this.logger?.info(`rollout ${action.kind}`, context);
    }
  }
}

const EMPTY: AlarmReadout = { states: new Map(), unknown: new Map() };
