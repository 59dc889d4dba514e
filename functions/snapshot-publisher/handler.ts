import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { SNAPSHOT_PUBLISHER_SERVICE } from '../../shared/pipeline/metric-names.ts';
import { snapshotPublisherEnv } from './env.ts';
import { createConfigChangeHandler } from './wiring.ts';

const logger = new Logger({ serviceName: SNAPSHOT_PUBLISHER_SERVICE });
const metrics = new Metrics({ serviceName: SNAPSHOT_PUBLISHER_SERVICE });
const publish = createConfigChangeHandler(snapshotPublisherEnv(), { logger, metrics });

export const handler = middy(publish)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));
