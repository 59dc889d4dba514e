import type { SQSBatchResponse } from 'aws-lambda';
import type { SqsHandler } from '../../lambda/poller.ts';
import type { FunctionPool } from './function-pool.ts';

/**
 * The pool as the handler of an `SqsEventSourcePoller`: each batch is one invocation, with the
 * poller's request id. A rejection (handler error, timeout, crash, init failure) fails the whole
 * batch, as on Lambda; the poller checks the response against Lambda's batch-response rules.
 *
 * The poller races the handler against its own `timeoutMs`, which includes a cold start's init;
 * the pool's deadline does not. Give the poller the function timeout plus room for init, or expect
 * a slow cold start to fail its batch.
 *
 * @example
 * const poller = new SqsEventSourcePoller({ sqs, queueUrl, handler: poolHandler(pool), timeoutMs: 60_000 });
 */
export function poolHandler(pool: Pick<FunctionPool, 'invoke'>): SqsHandler {
  return async function invokePool(event, context) {
    return (await pool.invoke(event, { requestId: context.awsRequestId })) as SQSBatchResponse | undefined;
  };
}
