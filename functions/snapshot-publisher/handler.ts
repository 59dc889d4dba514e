import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { snapshotPublisherEnv } from './env.ts';
import { createConfigChangeHandler } from './wiring.ts';

const logger = new Logger({ serviceName: 'snapshot-publisher' });
const metrics = new Metrics({ serviceName: 'snapshot-publisher' });
const publish = createConfigChangeHandler(snapshotPublisherEnv(), { logger, metrics });

export const handler = middy(publish)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));
