import { describe, expect, it } from 'vitest';
import { InvalidRolloutStrategyError } from '../../../../shared/snapshots/errors.ts';
import {
  nextMoveAt,
  nextPercentage,
  planStrategy,
  type RolloutStrategyRequest,
  rolloutPhase,
} from '../../../../shared/snapshots/strategy.ts';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const GOOD: RolloutStrategyRequest = {
  stepPercent: 20,
  everyMs: 300_000,
  bakeMs: 600_000,
  alarms: ['errors'],
};

describe('planStrategy', () => {
  it('stamps the start and keeps each alarm once', () => {
    // Act
    const strategy = planStrategy(10, { ...GOOD, alarms: ['errors', 'latency', 'errors'] }, NOW);
    // Assess
    expect(strategy).toEqual({
      growth: 'linear',
      canaryPercent: 10,
      stepPercent: 20,
      everyMs: 300_000,
      bakeMs: 600_000,
      alarms: ['errors', 'latency'],
      startedAt: '2026-12-01T10:00:00.000Z',
      lastStepAt: '2026-12-01T10:00:00.000Z',
    });
  });

  it.each([
    ['a canary of 0', 0, GOOD, 'canaryPercent', /got 0; use a percentage above 0 and at most 100/],
    ['a canary over 100', 101, GOOD, 'canaryPercent', /got 101;/],
    ['a canary with three decimals', 10.125, GOOD, 'canaryPercent', /at most two decimals/],
    ['a step of 0', 10, { ...GOOD, stepPercent: 0 }, 'stepPercent', /got 0;/],
    ['a negative step', 10, { ...GOOD, stepPercent: -5 }, 'stepPercent', /got -5;/],
    ['a step over 100', 10, { ...GOOD, stepPercent: 150 }, 'stepPercent', /got 150;/],
    [
      'steps under a minute apart',
      10,
      { ...GOOD, everyMs: 30_000 },
      'everyMs',
      /got 30000; use a whole number of milliseconds from 60000 \(1m\) to 86400000 \(24h\)/,
    ],
    ['steps over a day apart', 10, { ...GOOD, everyMs: 90_000_000 }, 'everyMs', /got 90000000;/],
    ['a fractional interval', 10, { ...GOOD, everyMs: 60_000.5 }, 'everyMs', /got 60000.5;/],
    [
      'a negative bake',
      10,
      { ...GOOD, bakeMs: -1 },
      'bakeMs',
      /got -1; use a whole number of milliseconds from 0/,
    ],
    ['a bake over a day', 10, { ...GOOD, bakeMs: 86_400_001 }, 'bakeMs', /got 86400001;/],
    [
      'an empty alarm name',
      10,
      { ...GOOD, alarms: ['ok', ''] },
      'alarms[1]',
      /got ""; use a CloudWatch alarm name/,
    ],
    [
      'an alarm name with a newline',
      10,
      { ...GOOD, alarms: ['a\nb'] },
      'alarms[0]',
      /without control characters/,
    ],
    [
      'an alarm name with spaces around it',
      10,
      { ...GOOD, alarms: [' errors'] },
      'alarms[0]',
      /surrounding spaces/,
    ],
    [
      'an alarm name of 256 characters',
      10,
      { ...GOOD, alarms: ['x'.repeat(256)] },
      'alarms[0]',
      /1-255 characters/,
    ],
    [
      'an alarm ARN instead of a name',
      10,
      { ...GOOD, alarms: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:WritePath-Errors'] },
      'alarms[0]',
      /pass the alarm's name \("WritePath-Errors"\), not its ARN/,
    ],
    [
      'eleven alarms',
      10,
      { ...GOOD, alarms: Array.from({ length: 11 }, (_, i) => `a${i}`) },
      'alarms',
      /at most 10 alarms/,
    ],
    [
      'an unknown growth',
      10,
      { ...GOOD, growth: 'quadratic' as 'linear' },
      'growth',
      /'linear' or 'exponential'/,
    ],
    [
      'more than a day of steps',
      0.01,
      { ...GOOD, stepPercent: 0.01, everyMs: 60_000 },
      'stepPercent',
      /takes 9999 steps of 60000 ms to reach 100%/,
    ],
  ])('refuses %s, naming the field and the value', (_, canary, request, field, message) => {
    // Act
    const plan = () => planStrategy(canary, request, NOW);
    // Assess
    expect(plan).toThrow(InvalidRolloutStrategyError);
    expect(plan).toThrow(
      expect.objectContaining({
        code: 'INVALID_ROLLOUT_STRATEGY',
        field,
        message: expect.stringMatching(message),
      }),
    );
  });

  it('refuses match rules: promoting after the bake would jump to every caller', () => {
    // Act
    const plan = () => planStrategy(10, GOOD, NOW, { region: ['eu-west-1'] });
    // Assess
    expect(plan).toThrow(
      expect.objectContaining({
        field: 'match',
        message: expect.stringMatching(/jump from the matching callers to everyone/),
      }),
    );
  });
});

describe('nextPercentage', () => {
  it.each([
    ['linear', 20, 10, 30],
    ['linear', 20, 90, 100],
    ['exponential', 100, 10, 20],
    ['exponential', 50, 10, 15],
    ['exponential', 100, 60, 100],
    ['exponential', 1, 0.01, 0.02],
  ] as const)('%s by %d from %d% is %d%', (growth, stepPercent, from, to) => {
    // Act
    const next = nextPercentage({ growth, stepPercent }, from);
    // Assess
    expect(next).toBe(to);
  });
});

describe('phase and next move', () => {
  it('is stepping below 100% and baking at 100%, with the next move after the interval or the bake', () => {
    // Prepare
    const strategy = planStrategy(10, GOOD, NOW);
    // Act
    const stepping = { version: 2, percentage: 30, strategy };
    const baking = { version: 2, percentage: 100, strategy };
    // Assess
    expect([
      rolloutPhase(stepping),
      rolloutPhase(baking),
      rolloutPhase({ version: 2, percentage: 30 }),
    ]).toEqual(['stepping', 'baking', undefined]);
    expect(nextMoveAt(stepping).toISOString()).toBe('2026-12-01T10:05:00.000Z');
    expect(nextMoveAt(baking).toISOString()).toBe('2026-12-01T10:10:00.000Z');
  });
});
