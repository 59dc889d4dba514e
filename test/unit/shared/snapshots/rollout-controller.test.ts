import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../../shared/core/options.ts';
import {
  type AlarmStateSource,
  CloudWatchAlarmStates,
  type DescribeAlarmsInput,
  StaticAlarmStates,
} from '../../../../shared/snapshots/alarms.ts';
import { SnapshotPublisher } from '../../../../shared/snapshots/publisher.ts';
import { SnapshotRolloutController } from '../../../../shared/snapshots/rollout-controller.ts';
import { MemorySnapshotStore } from '../../../support/fakes/memory-snapshot-store.ts';

const NAME = 'app';
const START = Date.parse('2026-12-01T10:00:00.000Z');
const MINUTE = 60_000;

/** A store with stable 1 and candidate 2 automated from 10% (+20 every 5 min, 10 min bake, alarm "errors"). */
async function setup(alarms: AlarmStateSource = new StaticAlarmStates({ errors: 'OK' })) {
  const store = new MemorySnapshotStore();
  let now = START;
  const clock = () => new Date(now);
  const publisher = new SnapshotPublisher({ store, clock });
  await publisher.publish(NAME, { v: 1 }, { source: 'test' });
  await publisher.publish(
    NAME,
    { v: 2 },
    {
      source: 'test',
      rollout: {
        percentage: 10,
        strategy: { stepPercent: 20, everyMs: 5 * MINUTE, bakeMs: 10 * MINUTE, alarms: ['errors'] },
      },
    },
  );
  const metrics: [string, number][] = [];
  const logs: string[] = [];
  const controller = new SnapshotRolloutController({
    store,
    alarms,
    clock,
    metrics: {
      addMetric: (name: string, _unit: unknown, value: number) => metrics.push([name, value]),
    } as never,
    logger: { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) } as never,
  });
  return { store, publisher, controller, metrics, logs, advance: (ms: number) => (now += ms) };
}

describe('SnapshotRolloutController.tick', () => {
  it('writes the next step conditionally and counts it', async () => {
    // Prepare
    const { store, controller, metrics, advance } = await setup();
    advance(5 * MINUTE);
    // Act
    const result = await controller.tick(NAME);
    // Assess
    expect(result.action).toEqual({ kind: 'advance', from: 10, to: 30 });
    expect(store.pointers.get(NAME)).toMatchObject({
      generation: 3,
      stable: 1,
      candidate: { percentage: 30 },
    });
    expect(store.pointers.get(NAME)?.updatedBy).toBe('rollout-controller');
    expect(metrics).toEqual([['RolloutStepped', 1]]);
  });

  it('leaves a person’s rollback made during the tick alone: the newer generation wins', async () => {
    // Prepare: the rollback lands between the controller's read and its write.
    const { store, publisher, controller, metrics, advance } = await setup();
    advance(5 * MINUTE);
    store.beforeResolve = async (method) => {
      if (method !== 'swapPointer' || store.pointers.get(NAME)?.generation !== 2) return;
      store.beforeResolve = undefined;
      await publisher.rollback(NAME, 1, { source: 'operator' });
    };
    // Act
    const result = await controller.tick(NAME);
    // Assess
    expect(result.action).toEqual({ kind: 'conflict', expectedGeneration: 2, actualGeneration: 3 });
    expect(store.pointers.get(NAME)).toMatchObject({
      generation: 3,
      stable: 1,
      updatedBy: 'operator',
      lastRollout: { version: 2, outcome: 'rolled-back', reason: 'manual', by: 'operator' },
    });
    expect(store.pointers.get(NAME)?.candidate).toBeUndefined();
    expect(metrics).toEqual([['RolloutConflicts', 1]]);
  });

  it('holds without advancing when the alarm source fails, counting the alarms it could not read', async () => {
    // Prepare
    const failing: AlarmStateSource = {
      read: () => Promise.reject(new Error('ThrottlingException: Rate exceeded')),
    };
    const { store, controller, metrics, advance } = await setup(failing);
    advance(5 * MINUTE);
    // Act
    const result = await controller.tick(NAME);
    // Assess
    expect(result.action).toMatchObject({ kind: 'hold', unknown: ['errors'] });
    expect(result.unknownAlarms).toEqual(
      new Map([['errors', 'reading alarms failed: ThrottlingException: Rate exceeded']]),
    );
    expect(store.pointers.get(NAME)?.candidate).toMatchObject({
      percentage: 10,
      strategy: { alarmsUnknownSince: '2026-12-01T10:05:00.000Z' },
    });
    expect(metrics).toEqual([['RolloutAlarmsUnknown', 1]]);
  });

  it('does not ask for alarms, nor write, when the pointer has no automated rollout', async () => {
    // Prepare
    let asked = 0;
    const counting: AlarmStateSource = {
      read: async () => {
        asked++;
        return { states: new Map(), unknown: new Map() };
      },
    };
    const { store, publisher, controller } = await setup(counting);
    await publisher.stopRollout(NAME);
    const before = store.calls.swapPointer;
    // Act
    const result = await controller.tick(NAME);
    // Assess
    expect(result.action).toEqual({ kind: 'none', reason: 'no-rollout' });
    expect([asked, store.calls.swapPointer - before]).toEqual([0, 0]);
  });

  it('refuses an unknownAlarmsRollbackMs out of range', () => {
    // Act
    const create = () =>
      new SnapshotRolloutController({
        store: new MemorySnapshotStore(),
        alarms: new StaticAlarmStates({}),
        unknownAlarmsRollbackMs: -1,
      });
    // Assess
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(/unknownAlarmsRollbackMs: got -1; use an integer from 0 to 86400000/);
  });
});

describe('CloudWatchAlarmStates', () => {
  it('asks for exactly the named alarms, follows NextToken, and reports the ones not returned as not found', async () => {
    // Prepare
    const requests: DescribeAlarmsInput[] = [];
    const source = new CloudWatchAlarmStates({
      describeAlarms: async (input) => {
        requests.push(input);
        return input.NextToken === undefined
          ? { MetricAlarms: [{ AlarmName: 'errors', StateValue: 'ALARM' }], NextToken: 'page-2' }
          : { MetricAlarms: [{ AlarmName: 'latency', StateValue: 'INSUFFICIENT_DATA' }] };
      },
    });
    // Act
    const readout = await source.read(['errors', 'latency', 'gone']);
    // Assess
    expect(requests).toEqual([
      { AlarmNames: ['errors', 'latency', 'gone'], MaxRecords: 100 },
      { AlarmNames: ['errors', 'latency', 'gone'], MaxRecords: 100, NextToken: 'page-2' },
    ]);
    expect(readout.states).toEqual(
      new Map([
        ['errors', 'ALARM'],
        ['latency', 'INSUFFICIENT_DATA'],
      ]),
    );
    expect(readout.unknown).toEqual(new Map([['gone', 'not found']]));
  });

  it('does not ask about names outside the allowed ones (the IAM policy would refuse them)', async () => {
    // Prepare
    const requests: DescribeAlarmsInput[] = [];
    const source = new CloudWatchAlarmStates({
      allowed: ['errors'],
      describeAlarms: async (input) => {
        requests.push(input);
        return { MetricAlarms: [{ AlarmName: 'errors', StateValue: 'OK' }] };
      },
    });
    // Act
    const readout = await source.read(['errors', 'other']);
    // Assess
    expect(requests.map((r) => r.AlarmNames)).toEqual([['errors']]);
    expect(readout.states.get('errors')).toBe('OK');
    expect(readout.unknown.get('other')).toMatch(/^not one the controller may read/);
  });

  it('sends at most 100 names per request', async () => {
    // Prepare
    const sizes: number[] = [];
    const source = new CloudWatchAlarmStates({
      describeAlarms: async (input) => {
        sizes.push(input.AlarmNames.length);
        return { MetricAlarms: input.AlarmNames.map((AlarmName) => ({ AlarmName, StateValue: 'OK' })) };
      },
    });
    // Act
    const readout = await source.read(Array.from({ length: 150 }, (_, i) => `alarm-${i}`));
    // Assess
    expect(sizes).toEqual([100, 50]);
    expect(readout.states.size).toBe(150);
  });
});
