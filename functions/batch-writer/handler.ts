import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { batchWriterEnv } from './env.ts';
import { createBatchWriterHandler } from './wiring.ts';

const logger = new Logger({ serviceName: 'batch-writer' });
const metrics = new Metrics({ serviceName: 'batch-writer' });

/** SQS batch → WriteBatcher → partial batch response, in the middy chain of `createBatchWriterHandler`. */
export const handler = createBatchWriterHandler(batchWriterEnv(), { logger, metrics });
