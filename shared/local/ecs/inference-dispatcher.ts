import { Logger } from '@aws-lambda-powertools/logger';
import { dispatcherEnv } from '../../../functions/inference-dispatcher/env.ts';
import { createDispatch, type DispatchFunction } from '../../../functions/inference-dispatcher/wiring.ts';

/** The dispatcher on local inference resources (`npm start`, tests), logging errors only. */
export function createLocalDispatch(resources: {
  readonly jobsTable: string;
  readonly workQueueUrl: string;
  readonly requestsDlqUrl: string;
}): DispatchFunction {
  return createDispatch(
    dispatcherEnv({
      JOBS_TABLE: resources.jobsTable,
      WORK_QUEUE_URL: resources.workQueueUrl,
      DLQ_URL: resources.requestsDlqUrl,
    }),
    { logger: new Logger({ serviceName: 'inference-dispatcher', logLevel: 'ERROR' }) },
  );
}
