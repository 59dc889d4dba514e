import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CloudWatchAlarmStates,
  type DescribeAlarms,
  DynamoDbSnapshotStore,
  describeAlarmsWith,
  SnapshotRolloutController,
} from '../../shared/snapshots/index.ts';
import { type RolloutTickSummary, runRolloutTicks } from './core.ts';
import type { RolloutControllerEnv } from './env.ts';

export interface RolloutControllerWiring {
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  /** @default DescribeAlarms through a CloudWatch client of the environment */
  readonly describeAlarms?: DescribeAlarms;
  /** @default the environment's DynamoDB client */
  readonly dynamodb?: DynamoDBClient;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

export type RolloutTickFunction = () => Promise<RolloutTickSummary>;

/**
 * The controller's clients for `env`, created once, and the function one scheduled invocation runs.
 * `handler.ts` wraps it in middy; tests run it with their own environment and alarm source.
 */
export function createRolloutTick(
  env: RolloutControllerEnv,
  wiring: RolloutControllerWiring = {},
): RolloutTickFunction {
  const store = new DynamoDbSnapshotStore({
    client: wiring.dynamodb ?? new DynamoDBClient({}),
    tableName: env.tableName,
  });
  const alarms = new CloudWatchAlarmStates({
    describeAlarms: wiring.describeAlarms ?? describeAlarmsWith(new CloudWatchClient({})),
    allowed: env.alarms,
  });
  const controller = new SnapshotRolloutController({
    store,
    alarms,
    unknownAlarmsRollbackMs: env.unknownAlarmsRollbackMs,
    source: env.source,
    ...(wiring.clock ? { clock: wiring.clock } : {}),
    logger: wiring.logger,
    metrics: wiring.metrics,
  });
  return () => runRolloutTicks({ controller, names: env.names, logger: wiring.logger });
}
