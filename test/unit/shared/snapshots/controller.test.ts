import { describe, expect, it } from 'vitest';
import type { AlarmReadout, AlarmState } from '../../../../shared/snapshots/alarms.ts';
import { decideRollout, type RolloutDecision } from '../../../../shared/snapshots/controller.ts';
import { planStrategy, type RolloutStrategyRequest } from '../../../../shared/snapshots/strategy.ts';
import type { Pointer } from '../../../../shared/snapshots/types.ts';

const START = Date.parse('2026-12-01T10:00:00.000Z');
const MINUTE = 60_000;
const OPTIONS = { unknownAlarmsRollbackMs: 5 * MINUTE };
const STRATEGY: RolloutStrategyRequest = {
  stepPercent: 20,
  everyMs: 5 * MINUTE,
  bakeMs: 10 * MINUTE,
  alarms: ['errors', 'latency'],
};

/** Stable 1, candidate 2 at `canary`% under `strategy`, started at START. */
function rollingOut(strategy: RolloutStrategyRequest = STRATEGY, canary = 10): Pointer {
  return {
    name: 'app',
    generation: 2,
    stable: 1,
    candidate: { version: 2, percentage: canary, strategy: planStrategy(canary, strategy, new Date(START)) },
    updatedAt: new Date(START).toISOString(),
    updatedBy: 'cli',
  };
}

function alarms(states: Record<string, AlarmState>): AlarmReadout {
  return { states: new Map(Object.entries(states)), unknown: new Map() };
}

const clear = alarms({ errors: 'OK', latency: 'INSUFFICIENT_DATA' });
const at = (minutes: number) => ({ at: new Date(START + minutes * MINUTE), by: 'rollout-controller' });

/** Runs the controller once a minute from START to `minutes`, applying every write, like the deployed schedule. */
function run(pointer: Pointer, minutes: number, readout: (minute: number) => AlarmReadout = () => clear) {
  const steps: { minute: number; decision: RolloutDecision }[] = [];
  let current = pointer;
  for (let minute = 1; minute <= minutes; minute++) {
    const decision = decideRollout(current, readout(minute), at(minute), OPTIONS);
    steps.push({ minute, decision });
    if (decision.next) current = decision.next;
  }
  return { steps, pointer: current };
}

describe('decideRollout', () => {
  it('steps 10 → 30 → 50 → 70 → 90 → 100 every 5 minutes, bakes 10 minutes, then promotes', () => {
    // Act
    const { steps, pointer } = run(rollingOut(), 40);
    // Assess
    const moves = steps
      .filter((s) => s.decision.action.kind !== 'none')
      .map((s) => ({ minute: s.minute, ...s.decision.action }));
    expect(moves).toEqual([
      { minute: 5, kind: 'advance', from: 10, to: 30 },
      { minute: 10, kind: 'advance', from: 30, to: 50 },
      { minute: 15, kind: 'advance', from: 50, to: 70 },
      { minute: 20, kind: 'advance', from: 70, to: 90 },
      { minute: 25, kind: 'advance', from: 90, to: 100 },
      { minute: 35, kind: 'promote', version: 2 },
    ]);
    expect(pointer).toEqual({
      name: 'app',
      generation: 8,
      stable: 2,
      lastRollout: {
        version: 2,
        outcome: 'promoted',
        reason: 'baked',
        percentage: 100,
        at: '2026-12-01T10:35:00.000Z',
        by: 'rollout-controller',
      },
      updatedAt: '2026-12-01T10:35:00.000Z',
      updatedBy: 'rollout-controller',
    });
  });

  it('writes nothing between steps and says when the next one is due', () => {
    // Act
    const { action, next } = decideRollout(rollingOut(), clear, at(3), OPTIONS);
    // Assess
    expect(next).toBeUndefined();
    expect(action).toEqual({ kind: 'none', reason: 'waiting', nextAt: '2026-12-01T10:05:00.000Z' });
  });

  it('records each step in the strategy, so the next one waits a full interval after it', () => {
    // Act
    const { next } = decideRollout(rollingOut(), clear, at(7), OPTIONS);
    // Assess
    expect(next?.candidate).toMatchObject({
      version: 2,
      percentage: 30,
      strategy: { startedAt: '2026-12-01T10:00:00.000Z', lastStepAt: '2026-12-01T10:07:00.000Z' },
    });
    expect(next?.generation).toBe(3);
  });

  it('takes one step per tick after the controller was away, never jumping ahead', () => {
    // Act
    const { action } = decideRollout(rollingOut(), clear, at(60), OPTIONS);
    // Assess
    expect(action).toEqual({ kind: 'advance', from: 10, to: 30 });
  });

  it('grows exponentially when asked: 10 → 20 → 40 → 80 → 100 with a 100% step', () => {
    // Act
    const { steps } = run(rollingOut({ ...STRATEGY, growth: 'exponential', stepPercent: 100 }), 20);
    // Assess
    const to = steps.flatMap((s) => (s.decision.action.kind === 'advance' ? [s.decision.action.to] : []));
    expect(to).toEqual([20, 40, 80, 100]);
  });

  it('rolls back when an alarm goes into ALARM at a step, to the old stable with the alarm recorded', () => {
    // Act
    const { steps, pointer } = run(rollingOut(), 40, (minute) =>
      minute >= 12 ? alarms({ errors: 'ALARM', latency: 'OK' }) : clear,
    );
    // Assess
    const rollback = steps.find((s) => s.decision.action.kind === 'rollback')!;
    expect(rollback.minute).toBe(12);
    expect(rollback.decision.action).toEqual({
      kind: 'rollback',
      version: 2,
      reason: 'alarm',
      alarms: ['errors'],
    });
    expect(pointer).toMatchObject({
      stable: 1,
      lastRollout: {
        version: 2,
        outcome: 'rolled-back',
        reason: 'alarm',
        alarms: ['errors'],
        percentage: 50,
      },
    });
    expect(pointer.candidate).toBeUndefined();
    expect(steps.filter((s) => s.decision.next !== undefined)).toHaveLength(3);
  });

  it('rolls back when an alarm goes into ALARM during the bake at 100%', () => {
    // Act
    const { steps, pointer } = run(rollingOut(), 40, (minute) =>
      minute === 31 ? alarms({ errors: 'OK', latency: 'ALARM' }) : clear,
    );
    // Assess
    const kinds = steps.filter((s) => s.decision.next).map((s) => `${s.minute}:${s.decision.action.kind}`);
    expect(kinds).toEqual([
      '5:advance',
      '10:advance',
      '15:advance',
      '20:advance',
      '25:advance',
      '31:rollback',
    ]);
    expect(pointer).toMatchObject({
      stable: 1,
      lastRollout: { outcome: 'rolled-back', reason: 'alarm', alarms: ['latency'], percentage: 100 },
    });
  });

  it('holds while an alarm is missing, and resumes where it was once the alarm is back', () => {
    // Prepare: "latency" is not found from minute 4 to minute 7.
    const readout = (minute: number) => (minute >= 4 && minute <= 7 ? alarms({ errors: 'OK' }) : clear);
    // Act
    const { steps } = run(rollingOut(), 10, readout);
    // Assess
    const log = steps
      .filter((s) => s.decision.action.kind !== 'none')
      .map((s) => [s.minute, s.decision.action]);
    expect(log).toEqual([
      [
        4,
        {
          kind: 'hold',
          unknown: ['latency'],
          since: '2026-12-01T10:04:00.000Z',
          rollbackAt: '2026-12-01T10:09:00.000Z',
        },
      ],
      [
        5,
        {
          kind: 'hold',
          unknown: ['latency'],
          since: '2026-12-01T10:04:00.000Z',
          rollbackAt: '2026-12-01T10:09:00.000Z',
        },
      ],
      [
        6,
        {
          kind: 'hold',
          unknown: ['latency'],
          since: '2026-12-01T10:04:00.000Z',
          rollbackAt: '2026-12-01T10:09:00.000Z',
        },
      ],
      [
        7,
        {
          kind: 'hold',
          unknown: ['latency'],
          since: '2026-12-01T10:04:00.000Z',
          rollbackAt: '2026-12-01T10:09:00.000Z',
        },
      ],
      [8, { kind: 'advance', from: 10, to: 30 }],
    ]);
    // Only the first minute of the hold writes (to remember since when); the step clears it.
    expect(steps.filter((s) => s.decision.next).map((s) => s.minute)).toEqual([4, 8]);
    expect(steps[7]!.decision.next?.candidate?.strategy?.alarmsUnknownSince).toBeUndefined();
  });

  it('rolls back once an alarm has been missing for the whole grace period', () => {
    // Act
    const { steps, pointer } = run(rollingOut(), 12, (minute) =>
      minute >= 2 ? alarms({ errors: 'OK' }) : clear,
    );
    // Assess
    const rollback = steps.find((s) => s.decision.action.kind === 'rollback')!;
    expect(rollback.minute).toBe(7);
    expect(pointer.lastRollout).toMatchObject({
      outcome: 'rolled-back',
      reason: 'alarms-unknown',
      alarms: ['latency'],
      percentage: 10,
    });
  });

  it('prefers an alarm in ALARM over unknown ones', () => {
    // Act
    const { action } = decideRollout(rollingOut(), alarms({ errors: 'ALARM' }), at(1), OPTIONS);
    // Assess
    expect(action).toMatchObject({ kind: 'rollback', reason: 'alarm', alarms: ['errors'] });
  });

  it('clears a hold at once when the alarms are back before a step is due', () => {
    // Prepare
    const held = decideRollout(rollingOut(), alarms({ errors: 'OK' }), at(1), OPTIONS).next!;
    // Act
    const { action, next } = decideRollout(held, clear, at(2), OPTIONS);
    // Assess
    expect(action).toEqual({ kind: 'resume' });
    expect(next?.candidate?.strategy).not.toHaveProperty('alarmsUnknownSince');
    expect(next?.candidate?.percentage).toBe(10);
  });

  it('promotes after the bake even without alarms, and does nothing for a candidate moved by hand', () => {
    // Prepare
    const timed = rollingOut({ stepPercent: 100, everyMs: MINUTE, bakeMs: 0 }, 50);
    const manual: Pointer = { ...timed, candidate: { version: 2, percentage: 50 } };
    // Act
    const first = decideRollout(timed, clear, at(1), OPTIONS);
    const second = decideRollout(first.next, clear, at(1), OPTIONS);
    const untouched = decideRollout(manual, clear, at(60), OPTIONS);
    // Assess
    expect(first.action).toEqual({ kind: 'advance', from: 50, to: 100 });
    expect(second.action).toEqual({ kind: 'promote', version: 2 });
    expect(untouched).toEqual({ action: { kind: 'none', reason: 'no-rollout' }, next: undefined });
  });

  it('carries the record of the last rollout across later steps', () => {
    // Prepare
    const lastRollout = {
      version: 1,
      outcome: 'promoted' as const,
      reason: 'baked' as const,
      percentage: 100,
      at: '2026-11-30T00:00:00.000Z',
      by: 'rollout-controller',
    };
    // Act
    const { next } = decideRollout({ ...rollingOut(), lastRollout }, clear, at(5), OPTIONS);
    // Assess
    expect(next?.lastRollout).toEqual(lastRollout);
  });
});
