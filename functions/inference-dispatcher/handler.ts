import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { DISPATCHER_SERVICE } from '../../shared/pipeline/inference/metric-names.ts';
import { flushTraces, startTracing } from '../../shared/tracing/index.ts';
import { dispatcherEnv } from './env.ts';
import { createDispatch } from './wiring.ts';

const logger = new Logger({ serviceName: DISPATCHER_SERVICE });
const metrics = new Metrics({ serviceName: DISPATCHER_SERVICE });
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; the SDK is loaded only then.
const tracing = await startTracing({ serviceName: DISPATCHER_SERVICE });
const dispatch = createDispatch(dispatcherEnv(), { logger, metrics, tracing });

const base = middy(dispatch);
export const handler = (tracing.enabled ? base.use(flushTraces({ tracing })) : base)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));
