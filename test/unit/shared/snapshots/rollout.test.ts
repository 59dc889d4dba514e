import { describe, expect, it } from 'vitest';
import { InvalidRolloutError } from '../../../../shared/snapshots/errors.ts';
import {
  assignedVersion,
  checkPercentage,
  inRollout,
  parseMatchRules,
  rolloutBucket,
} from '../../../../shared/snapshots/rollout.ts';
import type { Pointer } from '../../../../shared/snapshots/types.ts';

const keys = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);

describe('rollout assignment', () => {
  it('puts a key in the same bucket every time', () => {
    // Act
    const first = keys.map((k) => rolloutBucket('app', 2, k));
    const second = keys.map((k) => rolloutBucket('app', 2, k));
    // Assess
    expect(second).toEqual(first);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...first)).toBeLessThan(10_000);
  });

  it.each([1, 10, 25, 50, 90])('selects close to %s%% of 10,000 keys', (percentage) => {
    // Act
    const selected = keys.filter((key) => inRollout('app', { version: 2, percentage }, { key })).length;
    // Assess
    expect(Math.abs(selected / 100 - percentage)).toBeLessThan(1.5);
  });

  it('only adds callers when the percentage grows', () => {
    // Act
    const at10 = keys.filter((key) => inRollout('app', { version: 2, percentage: 10 }, { key }));
    const at30 = new Set(keys.filter((key) => inRollout('app', { version: 2, percentage: 30 }, { key })));
    // Assess
    expect(at10.every((key) => at30.has(key))).toBe(true);
  });

  it('selects nobody at 0% and everybody at 100%', () => {
    // Act
    const none = keys.filter((key) => inRollout('app', { version: 2, percentage: 0 }, { key }));
    const all = keys.filter((key) => inRollout('app', { version: 2, percentage: 100 }, { key }));
    // Assess
    expect(none).toHaveLength(0);
    expect(all).toHaveLength(keys.length);
  });

  it('selects only callers whose attributes match every rule', () => {
    // Prepare
    const rollout = { version: 2, percentage: 100, match: { region: ['eu', 'us'], model: ['m7'] } };
    // Act
    const both = inRollout('app', rollout, { key: 'a', attributes: { region: 'us', model: 'm7' } });
    const oneMissing = inRollout('app', rollout, { key: 'a', attributes: { region: 'us' } });
    const wrongValue = inRollout('app', rollout, { key: 'a', attributes: { region: 'ap', model: 'm7' } });
    // Assess
    expect([both, oneMissing, wrongValue]).toEqual([true, false, false]);
  });

  it('gives stable to a caller without a key', () => {
    // Prepare
    const pointer: Pointer = {
      name: 'app',
      generation: 2,
      stable: 1,
      candidate: { version: 2, percentage: 100 },
      updatedAt: '',
      updatedBy: '',
    };
    // Act
    const version = assignedVersion(pointer, undefined);
    // Assess
    expect(version).toBe(1);
  });
});

describe('rules and percentages', () => {
  it('collects repeated attributes as alternatives', () => {
    // Act
    const rules = parseMatchRules(['region=eu', 'region=us', 'model=m7', 'region=eu']);
    // Assess
    expect(rules).toEqual({ region: ['eu', 'us'], model: ['m7'] });
  });

  it.each(['region', '=eu', 'region=', '__proto__=x'])('refuses the rule %s', (rule) => {
    // Act
    const parse = () => parseMatchRules([rule]);
    // Assess
    expect(parse).toThrow(InvalidRolloutError);
  });

  it('accepts two decimals and refuses more', () => {
    // Act
    const ok = checkPercentage(0.1 + 0.2);
    const tooFine = () => checkPercentage(12.345);
    // Assess
    expect(ok).toBeCloseTo(0.3);
    expect(tooFine).toThrow(/more than two decimals/);
  });
});
