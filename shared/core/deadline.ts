/** Absolute point in time (epoch ms) after which no more retries are started. */
export interface Deadline {
  readonly at: number;
}

/**
 * The point at which a Lambda invocation must stop retrying: its remaining time minus a margin for
 * reporting the batch response (and sending rejects to the DLQ).
 */
export function deadlineOf(context: { getRemainingTimeInMillis(): number }, marginMs: number): Deadline {
  return { at: Date.now() + Math.max(0, context.getRemainingTimeInMillis() - marginMs) };
}
