import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { ROLLOUT_CONTROLLER_SERVICE } from '../../shared/pipeline/metric-names.ts';
import { rolloutControllerEnv } from './env.ts';
import { createRolloutTick } from './wiring.ts';

const logger = new Logger({ serviceName: ROLLOUT_CONTROLLER_SERVICE });
const metrics = new Metrics({ serviceName: ROLLOUT_CONTROLLER_SERVICE });
const tick = createRolloutTick(rolloutControllerEnv(), { logger, metrics });

// Invoked by an EventBridge schedule; the event carries nothing the tick needs.
export const handler = middy(tick)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));
