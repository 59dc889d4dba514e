/**
 * The SQS calls of `pipeline dlq`, retried with backoff when SQS throttles, fails on its side or
 * the connection drops; anything else (or retries used up) is a `DlqRequestError`.
 */

import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import { backOff } from 'exponential-backoff';
import { classifyAwsError, isRetryableAwsErrorKind } from '../../core/aws-errors.ts';
import { DlqRequestError } from '../errors.ts';

/** How many times a request is tried before it fails the command. */
export const REQUEST_ATTEMPTS = 6;

export interface RequestOptions {
  /** Called before each retry with the error it follows (the mover marks sends of unknown outcome). */
  readonly onRetry?: (error: unknown) => void;
  readonly hint?: string;
}

/**
 * Sends one SQS request (`send`), retrying errors worth retrying.
 *
 * @throws DlqRequestError when SQS refuses it or every attempt failed.
 */
export async function request<T>(
  operation: string,
  queueUrl: string,
  send: () => Promise<T>,
  options: RequestOptions = {},
): Promise<T> {
  try {
    return await backOff(send, {
      numOfAttempts: REQUEST_ATTEMPTS,
      startingDelay: 100,
      timeMultiple: 2,
      maxDelay: 2000,
      jitter: 'full',
      retry: (error: unknown) => {
        const retry = isRetryableAwsErrorKind(classifyAwsError(error));
        if (retry) options.onRetry?.(error);
        return retry;
      },
    });
  } catch (error) {
    if (error instanceof DlqRequestError) throw error;
    const cause = error instanceof Error ? error : new Error(String(error));
    throw new DlqRequestError(operation, queueUrl, cause, options.hint ? { hint: options.hint } : {});
  }
}

/** Attributes of a queue (`QueueArn`, `ApproximateNumberOfMessages`, …). */
export async function queueAttributes(
  client: SQSClient,
  queueUrl: string,
  names: readonly QueueAttributeName[],
): Promise<Partial<Record<QueueAttributeName, string>>> {
  const { Attributes = {} } = await request('GetQueueAttributes', queueUrl, () =>
    client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] })),
  );
  return Attributes;
}

/** Messages waiting (visible) and in flight, as SQS approximates them. */
export async function queueDepth(
  client: SQSClient,
  queueUrl: string,
): Promise<{ readonly visible: number; readonly inFlight: number }> {
  const attributes = await queueAttributes(client, queueUrl, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ]);
  return {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
