import { z } from 'zod';
import { parseEnv, parseJsonVariable } from '../../shared/core/env.ts';
import { checkAlarmName, rolloutLimits, SNAPSHOT_NAME_PATTERN } from '../../shared/snapshots/index.ts';

/** The rollout controller's environment: the only place its configuration is read. */
const RolloutControllerEnvSchema = z.object({
  SNAPSHOTS_TABLE: z.string().min(3),
  SNAPSHOT_NAMES: z.string(),
  ROLLOUT_ALARMS: z.string(),
  UNKNOWN_ALARMS_ROLLBACK_MS: z.coerce.number().int().min(0).max(rolloutLimits.maxBakeMs).default(300_000),
  /** Set by Lambda. */
  AWS_LAMBDA_FUNCTION_NAME: z.string().min(1).optional(),
});

const NamesSchema = z.array(z.string().regex(SNAPSHOT_NAME_PATTERN)).min(1);
const AlarmsSchema = z.array(
  z.string().refine((name) => {
    try {
      checkAlarmName(name, 'alarm');
      return true;
    } catch {
      return false;
    }
  }, 'is not a CloudWatch alarm name'),
);

export interface RolloutControllerEnv {
  readonly tableName: string;
  /** `SNAPSHOT_NAMES`: the snapshots whose automated rollouts it moves. */
  readonly names: readonly string[];
  /** `ROLLOUT_ALARMS`: the only alarms it may read (its IAM policy allows DescribeAlarms on these). */
  readonly alarms: readonly string[];
  /** `UNKNOWN_ALARMS_ROLLBACK_MS`: roll back once a rollout's alarms have been unknown this long. */
  readonly unknownAlarmsRollbackMs: number;
  /** Recorded as the pointer's `updatedBy`: `lambda:<function name>`. */
  readonly source: string;
}

/** Reads and validates the controller's environment; throws `ConfigurationError` naming the bad variable. */
export function rolloutControllerEnv(env: NodeJS.ProcessEnv = process.env): RolloutControllerEnv {
  const data = parseEnv(RolloutControllerEnvSchema, env);
  return {
    tableName: data.SNAPSHOTS_TABLE,
    names: parseJsonVariable('SNAPSHOT_NAMES', data.SNAPSHOT_NAMES, NamesSchema),
    alarms: parseJsonVariable('ROLLOUT_ALARMS', data.ROLLOUT_ALARMS, AlarmsSchema),
    unknownAlarmsRollbackMs: data.UNKNOWN_ALARMS_ROLLBACK_MS,
    source: `lambda:${data.AWS_LAMBDA_FUNCTION_NAME ?? 'rollout-controller'}`,
  };
}
