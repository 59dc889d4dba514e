import type { PlannedWrite } from './plan.ts';

/** BatchWriteItem accepts at most 25 requests and 16 MB per call. */
export const MAX_BATCH_REQUESTS = 25;
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Splits unconditional writes into BatchWriteItem-sized chunks, grouped into rounds: an item appears at
 * most once per round (writes to one item from different scopes land in later rounds), because
 * DynamoDB rejects a whole request that names an item twice. Rounds run one after another.
 */
export function chunkWrites(
  writes: readonly PlannedWrite[],
  maxRequests: number = MAX_BATCH_REQUESTS,
  maxBytes: number = MAX_BATCH_BYTES,
): PlannedWrite[][][] {
  const rounds: PlannedWrite[][][] = [];
  let pending = writes;
  while (pending.length > 0) {
    const seen = new Set<string>();
    const deferred: PlannedWrite[] = [];
    const chunks: PlannedWrite[][] = [];
    let chunk: PlannedWrite[] = [];
    let bytes = 0;
    for (const write of pending) {
      if (seen.has(write.itemKey)) {
        deferred.push(write);
        continue;
      }
      seen.add(write.itemKey);
      if (chunk.length === maxRequests || (chunk.length > 0 && bytes + write.wireBytes > maxBytes)) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(write);
      bytes += write.wireBytes;
    }
    if (chunk.length > 0) chunks.push(chunk);
    rounds.push(chunks);
    pending = deferred;
  }
  return rounds;
}
