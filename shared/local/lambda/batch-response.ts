import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

/** Which records of a batch to leave for redelivery, and why the whole batch failed when it did. */
export interface BatchOutcome {
  readonly failed: ReadonlySet<string>;
  /** Set when the response was malformed: every record then counts as failed. */
  readonly problem?: string;
}

/**
 * Reads a handler's response by Lambda's rules: no response or an empty `batchItemFailures` is full
 * success; a malformed response, or an `itemIdentifier` that is empty or names no record of the
 * batch, fails the whole batch.
 */
export function batchOutcome(response: unknown, records: readonly SQSRecord[]): BatchOutcome {
  const all = (problem: string): BatchOutcome => ({
    failed: new Set(records.map((record) => record.messageId)),
    problem,
  });
  if (response === undefined || response === null) return { failed: new Set() };
  if (typeof response !== 'object') return all(`response is a ${typeof response}, not an object`);
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return { failed: new Set() };
  if (!Array.isArray(failures)) return all('batchItemFailures is not an array');
  const known = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) {
      return all(`itemIdentifier ${JSON.stringify(id)} names no record of the batch`);
    }
    failed.add(id);
  }
  return { failed };
}
