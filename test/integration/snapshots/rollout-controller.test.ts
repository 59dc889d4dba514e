import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmReadout, AlarmState, AlarmStateSource } from '../../../shared/snapshots/alarms.ts';
import { SnapshotRolloutController } from '../../../shared/snapshots/rollout-controller.ts';
import { type SnapshotFixture, snapshotFixture } from './support.ts';

const START = Date.parse('2026-12-01T10:00:00.000Z');
const MINUTE = 60_000;
const KEYS = Array.from({ length: 2000 }, (_, i) => `device-${i}`);

/** Alarm states a test sets between ticks; an alarm it never set is not found. */
class FakeAlarms implements AlarmStateSource {
  readonly states = new Map<string, AlarmState>();
  readonly asked: string[][] = [];
  async read(names: readonly string[]): Promise<AlarmReadout> {
    this.asked.push([...names]);
    const states = new Map([...this.states].filter(([name]) => names.includes(name)));
    return { states, unknown: new Map(names.filter((n) => !states.has(n)).map((n) => [n, 'not found'])) };
  }
}

describe('the rollout controller on DynamoDB', () => {
  let fx: SnapshotFixture;
  beforeAll(async () => {
    fx = await snapshotFixture();
  });
  afterAll(async () => {
    await fx.dispose();
  });

  /** Stable version 1 and candidate 2 at a 10% canary, +20 every 5 minutes, 10 minutes of bake, alarm "errors". */
  async function rollingOut(name: string) {
    let now = START;
    const clock = () => new Date(now);
    const publisher = fx.publisherWith({ clock });
    await publisher.publish(name, { version: 'one' }, { source: 'test' });
    await publisher.publish(
      name,
      { version: 'two' },
      {
        source: 'test',
        rollout: {
          percentage: 10,
          strategy: { stepPercent: 20, everyMs: 5 * MINUTE, bakeMs: 10 * MINUTE, alarms: ['errors'] },
        },
      },
    );
    const alarms = new FakeAlarms();
    alarms.states.set('errors', 'OK');
    const controller = new SnapshotRolloutController({ store: fx.store, alarms, clock });
    const reader = fx.reader<{ version: string }>({ name, maxAgeMs: 0 });
    await reader.load();
    /** Moves the clock on, runs one tick, refreshes the (unchanged) reader and reports what it serves. */
    const tickAt = async (minute: number) => {
      now = START + minute * MINUTE;
      const result = await controller.tick(name);
      await reader.refresh();
      const served = KEYS.filter((key) => reader.getFor({ key }).data.version === 'two').length;
      return {
        action: result.action.kind,
        pointer: await fx.store.getPointer(name),
        share: served / KEYS.length,
      };
    };
    return { alarms, tickAt, publisher };
  }

  it('steps the candidate to 100%, bakes, and promotes it, while a reader serves it to a growing share', async () => {
    // Prepare
    const { alarms, tickAt } = await rollingOut('progression');
    // Act
    const ticks = [];
    for (const minute of [5, 10, 15, 20, 25, 30, 35]) ticks.push({ minute, ...(await tickAt(minute)) });
    // Assess
    expect(
      ticks.map((t) => [t.minute, t.action, t.pointer?.generation, t.pointer?.candidate?.percentage]),
    ).toEqual([
      [5, 'advance', 3, 30],
      [10, 'advance', 4, 50],
      [15, 'advance', 5, 70],
      [20, 'advance', 6, 90],
      [25, 'advance', 7, 100],
      [30, 'none', 7, 100],
      [35, 'promote', 8, undefined],
    ]);
    for (const t of ticks.slice(0, 4)) expect(t.share).toBeCloseTo(t.pointer!.candidate!.percentage / 100, 1);
    expect(ticks.slice(4).map((t) => t.share)).toEqual([1, 1, 1]);
    expect(ticks.at(-1)!.pointer).toMatchObject({
      stable: 2,
      lastRollout: { version: 2, outcome: 'promoted', reason: 'baked', at: '2026-12-01T10:35:00.000Z' },
    });
    expect(new Set(alarms.asked.flat())).toEqual(new Set(['errors']));
  });

  it('rolls the candidate back when the alarm goes into ALARM, and the reader serves the stable version to everyone again', async () => {
    // Prepare
    const { alarms, tickAt } = await rollingOut('alarm');
    await tickAt(5);
    // Act
    alarms.states.set('errors', 'ALARM');
    const rolledBack = await tickAt(7);
    const after = await tickAt(12);
    // Assess
    expect(rolledBack.action).toBe('rollback');
    expect(rolledBack.pointer).toMatchObject({
      generation: 4,
      stable: 1,
      lastRollout: {
        version: 2,
        outcome: 'rolled-back',
        reason: 'alarm',
        alarms: ['errors'],
        percentage: 30,
      },
    });
    expect(rolledBack.pointer?.candidate).toBeUndefined();
    expect(rolledBack.share).toBe(0);
    expect([after.action, after.pointer?.generation]).toEqual(['none', 4]);
  });

  it('holds while the alarm is missing, and rolls back once it has been missing for 5 minutes', async () => {
    // Prepare
    const { alarms, tickAt } = await rollingOut('missing');
    alarms.states.clear();
    // Act
    const held = [await tickAt(5), await tickAt(6), await tickAt(9)];
    const rolledBack = await tickAt(10);
    // Assess
    expect(held.map((t) => [t.action, t.pointer?.generation, t.pointer?.candidate?.percentage])).toEqual([
      ['hold', 3, 10],
      ['hold', 3, 10],
      ['hold', 3, 10],
    ]);
    expect(held[0]!.pointer?.candidate?.strategy?.alarmsUnknownSince).toBe('2026-12-01T10:05:00.000Z');
    expect(rolledBack.pointer).toMatchObject({
      stable: 1,
      lastRollout: { reason: 'alarms-unknown', alarms: ['errors'] },
    });
  });

  it('loses cleanly to a manual rollback made after it read the pointer', async () => {
    // Prepare: the controller reads generation 2; a person rolls back before it writes.
    const { tickAt, publisher } = await rollingOut('race');
    const store = fx.store;
    const swap = store.swapPointer.bind(store);
    let raced = false;
    store.swapPointer = async (next, expected) => {
      if (!raced && next.updatedBy === 'rollout-controller') {
        raced = true;
        await publisher.rollback('race', 1, { source: 'operator' });
      }
      return swap(next, expected);
    };
    // Act
    const result = await tickAt(5).finally(() => {
      store.swapPointer = swap;
    });
    // Assess
    expect(result.action).toBe('conflict');
    expect(result.pointer).toMatchObject({ generation: 3, stable: 1, updatedBy: 'operator' });
    expect(result.pointer?.candidate).toBeUndefined();
  });
});
