import { describe, expect, it } from 'vitest';
import { runRolloutTicks } from '../../../../functions/rollout-controller/core.ts';
import { RolloutTickFailedError } from '../../../../functions/rollout-controller/errors.ts';
import type { TickResult } from '../../../../shared/snapshots/index.ts';

const advanced = (name: string): TickResult => ({
  name,
  action: { kind: 'advance', from: 10, to: 30 },
  pointer: { name, generation: 3, stable: 1, updatedAt: '', updatedBy: '' },
  unknownAlarms: new Map(),
});

describe('runRolloutTicks', () => {
  it('ticks every named snapshot and sums up what it did', async () => {
    // Prepare
    const ticked: string[] = [];
    const controller = {
      tick: async (name: string) => {
        ticked.push(name);
        return advanced(name);
      },
    };
    // Act
    const summary = await runRolloutTicks({ controller, names: ['pipeline', 'devices'] });
    // Assess
    expect(ticked).toEqual(['pipeline', 'devices']);
    expect(summary.ticks).toEqual([
      { name: 'pipeline', action: 'advance', generation: 3 },
      { name: 'devices', action: 'advance', generation: 3 },
    ]);
  });

  it('still ticks the others when one fails, then fails the invocation naming it', async () => {
    // Prepare
    const ticked: string[] = [];
    const controller = {
      tick: async (name: string) => {
        ticked.push(name);
        if (name === 'pipeline') throw new Error('ProvisionedThroughputExceededException');
        return advanced(name);
      },
    };
    // Act
    const run = runRolloutTicks({ controller, names: ['pipeline', 'devices'] });
    // Assess
    await expect(run).rejects.toBeInstanceOf(RolloutTickFailedError);
    await expect(run).rejects.toMatchObject({
      code: 'ROLLOUT_TICK_FAILED',
      message: 'the rollout tick failed for 1 snapshot(s): pipeline: ProvisionedThroughputExceededException',
    });
    expect(ticked).toEqual(['pipeline', 'devices']);
  });
});
