/**
 * Handing received messages back to their queue at once (visibility timeout 0), so a peek or the
 * messages a redrive leaves behind do not stay hidden until their visibility timeout ends.
 */

import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsLimits } from '../../sqs/index.ts';
import { request } from './sqs.ts';

/**
 * Makes the messages of these receipt handles visible again; resolves with how many SQS released.
 * A handle that is no longer valid (the message was received again or deleted) is skipped: that
 * message becomes visible when its visibility timeout ends, or already is.
 */
export async function releaseMessages(
  client: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
): Promise<number> {
  let released = 0;
  for (let start = 0; start < receiptHandles.length; start += sqsLimits.maxBatchEntries) {
    const entries = receiptHandles
      .slice(start, start + sqsLimits.maxBatchEntries)
      .map((handle, i) => ({ Id: String(i), ReceiptHandle: handle, VisibilityTimeout: 0 }));
    const { Successful = [] } = await request('ChangeMessageVisibilityBatch', queueUrl, () =>
      client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries })),
    );
    released += Successful.length;
  }
  return released;
}
