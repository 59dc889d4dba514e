import type { Logger } from '@aws-lambda-powertools/logger';
import type { TickResult } from '../../shared/snapshots/index.ts';
import { RolloutTickFailedError } from './errors.ts';

export interface RolloutTickDeps {
  readonly controller: { tick(name: string): Promise<TickResult> };
  /** The snapshots to tick, one after the other. */
  readonly names: readonly string[];
  readonly logger?: Pick<Logger, 'info' | 'error'>;
}

/** What one scheduled invocation did, per snapshot. */
export interface RolloutTickSummary {
  readonly ticks: readonly { readonly name: string; readonly action: string; readonly generation?: number }[];
}

/**
 * One scheduled tick: moves every named snapshot's automated rollout on (a snapshot without one is
 * left alone). A snapshot whose tick fails does not stop the others; the invocation then fails with
 * `RolloutTickFailedError` naming them.
 */
export async function runRolloutTicks(deps: RolloutTickDeps): Promise<RolloutTickSummary> {
  const ticks: RolloutTickSummary['ticks'][number][] = [];
  const failures: { name: string; error: unknown }[] = [];
  for (const name of deps.names) {
    try {
      const result = await deps.controller.tick(name);
      ticks.push({ name, action: result.action.kind, generation: result.pointer?.generation });
    } catch (error) {
      deps.logger?.error('rollout tick failed', { snapshot: name, error });
      failures.push({ name, error });
    }
  }
  deps.logger?.info('rollout tick', { ticks });
  if (failures.length > 0) throw new RolloutTickFailedError(failures);
  return { ticks };
}
