import { describe, expect, it } from 'vitest';
import { InvalidRolloutError, InvalidRolloutStrategyError } from '../../../../shared/snapshots/errors.ts';
import { SnapshotPublisher } from '../../../../shared/snapshots/publisher.ts';
import type { RolloutStrategyRequest } from '../../../../shared/snapshots/strategy.ts';
import { MemorySnapshotStore } from '../../../support/fakes/memory-snapshot-store.ts';

const NAME = 'app';
const STRATEGY: RolloutStrategyRequest = {
  stepPercent: 20,
  everyMs: 300_000,
  bakeMs: 600_000,
  alarms: ['errors'],
};

async function setup() {
  const store = new MemorySnapshotStore();
  let now = Date.parse('2026-12-01T10:00:00Z');
  const publisher = new SnapshotPublisher({ store, clock: () => new Date(now) });
  await publisher.publish(NAME, { v: 1 });
  return { store, publisher, tick: (ms: number) => (now += ms) };
}

describe('automated rollouts on the publisher', () => {
  it('publishes a candidate with its strategy, started when the pointer flips', async () => {
    // Prepare
    const { publisher } = await setup();
    // Act
    const { pointer } = await publisher.publish(
      NAME,
      { v: 2 },
      { rollout: { percentage: 10, strategy: STRATEGY } },
    );
    // Assess
    expect(pointer.candidate).toEqual({
      version: 2,
      percentage: 10,
      strategy: {
        growth: 'linear',
        canaryPercent: 10,
        stepPercent: 20,
        everyMs: 300_000,
        bakeMs: 600_000,
        alarms: ['errors'],
        startedAt: '2026-12-01T10:00:00.000Z',
        lastStepAt: '2026-12-01T10:00:00.000Z',
      },
    });
  });

  it('refuses a bad strategy before writing anything', async () => {
    // Prepare
    const { store, publisher } = await setup();
    const versions = store.calls.allocateVersion;
    // Act
    const publish = publisher.publish(
      NAME,
      { v: 2 },
      { rollout: { percentage: 10, strategy: { ...STRATEGY, stepPercent: 0 } } },
    );
    // Assess
    await expect(publish).rejects.toBeInstanceOf(InvalidRolloutStrategyError);
    expect(store.calls.allocateVersion).toBe(versions);
    expect(store.pointers.get(NAME)?.generation).toBe(1);
  });

  it('starts automating an existing candidate from its percentage, and stops again keeping the percentage', async () => {
    // Prepare
    const { publisher, tick } = await setup();
    await publisher.publish(NAME, { v: 2 }, { rollout: { percentage: 25 } });
    tick(60_000);
    // Act
    const started = await publisher.startRollout(NAME, STRATEGY, { source: 'ops' });
    const stopped = await publisher.stopRollout(NAME, { source: 'ops' });
    // Assess
    expect(started.candidate?.strategy).toMatchObject({
      canaryPercent: 25,
      startedAt: '2026-12-01T10:01:00.000Z',
    });
    expect(stopped.candidate).toEqual({ version: 2, percentage: 25 });
    await expect(publisher.stopRollout(NAME)).rejects.toThrow(/has no automated rollout to stop/);
  });

  it('refuses to start a rollout without a candidate', async () => {
    // Prepare
    const { publisher } = await setup();
    // Act
    const start = publisher.startRollout(NAME, STRATEGY);
    // Assess
    await expect(start).rejects.toBeInstanceOf(InvalidRolloutError);
  });

  it('keeps the strategy on a partial promote, and records a manual promote or rollback', async () => {
    // Prepare
    const { publisher } = await setup();
    await publisher.publish(NAME, { v: 2 }, { rollout: { percentage: 10, strategy: STRATEGY } });
    // Act
    const partial = await publisher.promote(NAME, { percentage: 50 });
    const promoted = await publisher.promote(NAME, { source: 'ops' });
    await publisher.publish(NAME, { v: 3 }, { rollout: { percentage: 10, strategy: STRATEGY } });
    const rolledBack = await publisher.rollback(NAME, 2, { source: 'ops' });
    // Assess
    expect(partial.candidate).toMatchObject({ percentage: 50, strategy: { stepPercent: 20 } });
    expect(promoted).toMatchObject({
      stable: 2,
      lastRollout: { version: 2, outcome: 'promoted', reason: 'manual', percentage: 50, by: 'ops' },
    });
    expect(rolledBack).toMatchObject({
      stable: 2,
      lastRollout: { version: 3, outcome: 'rolled-back', reason: 'manual', percentage: 10 },
    });
    expect(rolledBack.candidate).toBeUndefined();
  });

  it('records a candidate replaced by a new publish as superseded, and carries the record on', async () => {
    // Prepare
    const { publisher } = await setup();
    await publisher.publish(NAME, { v: 2 }, { rollout: { percentage: 10, strategy: STRATEGY } });
    // Act
    const replaced = await publisher.publish(NAME, { v: 3 });
    const later = await publisher.publish(NAME, { v: 4 });
    // Assess
    expect(replaced.pointer.lastRollout).toMatchObject({
      version: 2,
      outcome: 'rolled-back',
      reason: 'superseded',
    });
    expect(later.pointer.lastRollout).toEqual(replaced.pointer.lastRollout);
  });
});
