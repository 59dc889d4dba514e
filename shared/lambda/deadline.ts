import type { Deadline } from '../dynamodb/write-batcher/types.ts';

/**
 * The point at which a Lambda invocation must stop retrying: its remaining time minus a margin for
 * reporting the batch response (and sending rejects to the DLQ).
 */
export function deadlineOf(context: { getRemainingTimeInMillis(): number }, marginMs: number): Deadline {
  return { at: Date.now() + Math.max(0, context.getRemainingTimeInMillis() - marginMs) };
}
