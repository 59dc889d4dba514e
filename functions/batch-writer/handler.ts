import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { BATCH_WRITER_SERVICE } from '../../shared/pipeline/metric-names.ts';
import { startTracing } from '../../shared/tracing/index.ts';
import { batchWriterEnv } from './env.ts';
import { createBatchWriterHandler } from './wiring.ts';

const logger = new Logger({ serviceName: BATCH_WRITER_SERVICE });
const metrics = new Metrics({ serviceName: BATCH_WRITER_SERVICE });
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; the SDK is loaded only then.
const tracing = await startTracing({ serviceName: BATCH_WRITER_SERVICE });

/** SQS batch → WriteBatcher → partial batch response, in the middy chain of `createBatchWriterHandler`. */
export const handler = createBatchWriterHandler(batchWriterEnv(), { logger, metrics, tracing });
