import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutControllerEnv } from '../../../functions/rollout-controller/env.ts';
import { createRolloutTick } from '../../../functions/rollout-controller/wiring.ts';
import type { DescribeAlarmsInput } from '../../../shared/snapshots/alarms.ts';
import { type SnapshotFixture, snapshotFixture } from './support.ts';

// The controller function as its handler wires it (environment, store, CloudWatch adapter), with
// DescribeAlarms answered by a stub that behaves like CloudWatch: it returns the metric alarms it
// has among the names asked for.
const START = Date.parse('2026-12-01T10:00:00.000Z');
const MINUTE = 60_000;

describe('the rollout controller function on DynamoDB', () => {
  let fx: SnapshotFixture;
  beforeAll(async () => {
    fx = await snapshotFixture();
  });
  afterAll(async () => {
    await fx.dispose();
  });

  async function setup(name: string, alarms: string[]) {
    let now = START;
    const clock = () => new Date(now);
    const publisher = fx.publisherWith({ clock });
    await publisher.publish(name, { v: 1 });
    await publisher.publish(
      name,
      { v: 2 },
      { rollout: { percentage: 10, strategy: { stepPercent: 45, everyMs: MINUTE, bakeMs: 0, alarms } } },
    );
    const env = rolloutControllerEnv({
      SNAPSHOTS_TABLE: fx.tableName,
      SNAPSHOT_NAMES: JSON.stringify([name]),
      ROLLOUT_ALARMS: JSON.stringify(['WritePath-Errors']),
      AWS_LAMBDA_FUNCTION_NAME: 'WritePath-RolloutController',
    });
    return { env, clock, advance: (ms: number) => (now += ms) };
  }

  it('steps and promotes on schedule, asking CloudWatch about exactly the allowed alarm', async () => {
    // Prepare
    const { env, clock, advance } = await setup('fn-progress', ['WritePath-Errors']);
    const asked: DescribeAlarmsInput[] = [];
    const tick = createRolloutTick(env, {
      dynamodb: fx.client,
      clock,
      describeAlarms: async (input) => {
        asked.push(input);
        return { MetricAlarms: [{ AlarmName: 'WritePath-Errors', StateValue: 'OK' }] };
      },
    });
    // Act
    const actions: string[] = [];
    for (let i = 0; i < 3; i++) {
      advance(MINUTE);
      actions.push(...(await tick()).ticks.map((t) => `${t.action}:${t.generation}`));
    }
    // Assess
    expect(actions).toEqual(['advance:3', 'advance:4', 'promote:5']);
    expect(asked).toEqual(
      Array.from({ length: 3 }, () => ({ AlarmNames: ['WritePath-Errors'], MaxRecords: 100 })),
    );
    expect(await fx.store.getPointer('fn-progress')).toMatchObject({
      stable: 2,
      updatedBy: 'lambda:WritePath-RolloutController',
      lastRollout: { outcome: 'promoted', reason: 'baked' },
    });
  });

  it('holds a rollout that names an alarm it may not read, without asking CloudWatch about it', async () => {
    // Prepare
    const { env, clock, advance } = await setup('fn-not-allowed', ['Someone-Elses-Alarm']);
    const asked: DescribeAlarmsInput[] = [];
    const tick = createRolloutTick(env, {
      dynamodb: fx.client,
      clock,
      describeAlarms: async (input) => {
        asked.push(input);
        return {};
      },
    });
    advance(MINUTE);
    // Act
    const summary = await tick();
    // Assess
    expect(summary.ticks).toEqual([{ name: 'fn-not-allowed', action: 'hold', generation: 3 }]);
    expect(asked).toEqual([]);
    expect((await fx.store.getPointer('fn-not-allowed'))?.candidate?.percentage).toBe(10);
  });

  it('holds when DescribeAlarms fails, instead of stepping blind', async () => {
    // Prepare
    const { env, clock, advance } = await setup('fn-cloudwatch-down', ['WritePath-Errors']);
    const warnings: unknown[] = [];
    const tick = createRolloutTick(env, {
      dynamodb: fx.client,
      clock,
      describeAlarms: () =>
        Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
      logger: {
        info: () => {},
        warn: (_m: string, extra: unknown) => warnings.push(extra),
        error: () => {},
      } as never,
    });
    advance(MINUTE);
    // Act
    const summary = await tick();
    // Assess
    expect(summary.ticks).toEqual([{ name: 'fn-cloudwatch-down', action: 'hold', generation: 3 }]);
    expect(warnings).toContainEqual(
      expect.objectContaining({ error: expect.objectContaining({ name: 'ThrottlingException' }) }),
    );
    expect((await fx.store.getPointer('fn-cloudwatch-down'))?.candidate?.percentage).toBe(10);
  });
});
