import { describe, expect, it } from 'vitest';
import { rolloutControllerEnv } from '../../../../functions/rollout-controller/env.ts';
import { ConfigurationError } from '../../../../shared/core/env.ts';

const variables = {
  SNAPSHOTS_TABLE: 'snapshots',
  SNAPSHOT_NAMES: '["pipeline"]',
  ROLLOUT_ALARMS: '["WritePath-DeadLetterAlarm","WritePath-OldestMessageAlarm"]',
  AWS_LAMBDA_FUNCTION_NAME: 'WritePath-RolloutController',
};

describe('rolloutControllerEnv', () => {
  it('reads the names to tick, the alarms it may read, and signs as its function', () => {
    // Act
    const env = rolloutControllerEnv(variables);
    // Assess
    expect(env).toEqual({
      tableName: 'snapshots',
      names: ['pipeline'],
      alarms: ['WritePath-DeadLetterAlarm', 'WritePath-OldestMessageAlarm'],
      unknownAlarmsRollbackMs: 300_000,
      source: 'lambda:WritePath-RolloutController',
    });
  });

  it.each([
    ['SNAPSHOT_NAMES', { SNAPSHOT_NAMES: '[]' }],
    ['SNAPSHOT_NAMES', { SNAPSHOT_NAMES: '["bad name"]' }],
    ['ROLLOUT_ALARMS', { ROLLOUT_ALARMS: '["arn:aws:cloudwatch:us-east-1:1:alarm:x"]' }],
    ['ROLLOUT_ALARMS', { ROLLOUT_ALARMS: 'not json' }],
    ['UNKNOWN_ALARMS_ROLLBACK_MS', { UNKNOWN_ALARMS_ROLLBACK_MS: '-5' }],
  ])('names %s when it is bad', (variable, bad) => {
    // Act
    const read = () => rolloutControllerEnv({ ...variables, ...bad });
    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(new RegExp(`environment variable ${variable}`));
  });
});
