import type { PipelineError } from '../core/errors.ts';
import { chunkWrites } from './chunk.ts';
import { planWrites } from './plan.ts';
import { MAX_TRANSACTION_BYTES, MAX_TRANSACTION_WRITES, writeUnits } from './send.ts';
import type { WriteRequest } from './types.ts';

/** One write a batch would send, after validation and coalescing. */
export interface DryRunWrite {
  /** Index of the input it carries (the last writer of its item in its scope). */
  readonly index: number;
  readonly tableName: string;
  /** The partition key value it writes (the physical one, for a sharded route). */
  readonly partitionKeyValue: string | number;
  readonly sortKeyValue?: string | number;
  /** `guardedPut`: a version-guarded put or tombstone. */
  readonly kind: 'put' | 'delete' | 'guardedPut';
  /** DynamoDB's size of the item (or key) written, version and tombstone attributes included. */
  readonly itemBytes: number;
  /**
   * Write units DynamoDB charges for it as a new item: 1 per started KB, at least 1; twice that for
   * a guarded write sent in a transaction (`versionedWrites: 'transaction'`).
   */
  readonly writeUnits: number;
}

/** What `writeAll` would do with a batch, without sending anything. */
export interface DryRunResult {
  readonly writes: readonly DryRunWrite[];
  /** Inputs superseded by a later write of the same item (in the same scope). */
  readonly coalesced: number;
  /** Inputs the batcher would reject before sending (too large, key too long, …). */
  readonly rejected: readonly { readonly index: number; readonly error: PipelineError }[];
  /** Requests the writes take at the first try: BatchWriteItem, and transactions or conditional puts. */
  readonly requests: { readonly batchWrite: number; readonly guarded: number };
}

export interface DryRunOptions {
  /** As the batcher's option. @default 'transaction' */
  readonly versionedWrites?: 'transaction' | 'conditional-put';
  /** @default '_version' */
  readonly versionAttribute?: string;
  /** @default '_deleted' */
  readonly deletedAttribute?: string;
  /** @default '_expiresAt' */
  readonly ttlAttribute?: string;
  /** @default 15 */
  readonly tombstoneTtlDays?: number;
  /** Clock for tombstone expiry (it changes the item's size by at most a byte). @default Date.now() */
  readonly now?: number;
}

/**
 * Plans a batch exactly as `WriteBatcher.writeAll` does — validation, sizes, coalescing per item and
 * scope, chunking — and returns what it would send, for capacity planning (`pipeline advise`).
 *
 * @example
 * const { writes, coalesced } = dryRun(requests);
 * const units = writes.reduce((sum, w) => sum + w.writeUnits, 0);
 */
export function dryRun(requests: readonly WriteRequest[], options: DryRunOptions = {}): DryRunResult {
  const versionedWrites = options.versionedWrites ?? 'transaction';
  const plan = planWrites(
    requests,
    {
      versionAttribute: options.versionAttribute ?? '_version',
      deletedAttribute: options.deletedAttribute ?? '_deleted',
      ttlAttribute: options.ttlAttribute ?? '_expiresAt',
      tombstoneTtlDays: options.tombstoneTtlDays ?? 15,
    },
    options.now ?? Date.now(),
  );
  const writes = plan.writes.map((write): DryRunWrite => {
    const { partitionKey, sortKey } = write.target;
    const source = requests[write.index]!;
    const attributes = source.op === 'put' ? source.item : source.key;
    const transactional = write.kind === 'guardedPut' && versionedWrites === 'transaction';
    return {
      index: write.index,
      tableName: write.target.tableName,
      partitionKeyValue: attributes[partitionKey] as string | number,
      ...(sortKey === undefined ? {} : { sortKeyValue: attributes[sortKey] as string | number }),
      kind: write.kind,
      itemBytes: write.itemBytes,
      writeUnits: (transactional ? 2 : 1) * writeUnits(write),
    };
  });
  const unconditional = plan.writes.filter((w) => w.kind !== 'guardedPut');
  const guarded = plan.writes.filter((w) => w.kind === 'guardedPut');
  const requestsOf = (rounds: readonly (readonly unknown[])[]) =>
    rounds.reduce((n, round) => n + round.length, 0);
  return {
    writes,
    coalesced: requests.length - plan.writes.length - plan.rejected.size,
    rejected: [...plan.rejected].map(([index, error]) => ({ index, error })),
    requests: {
      batchWrite: requestsOf(chunkWrites(unconditional)),
      guarded:
        versionedWrites === 'transaction'
          ? requestsOf(chunkWrites(guarded, MAX_TRANSACTION_WRITES, MAX_TRANSACTION_BYTES))
          : guarded.length,
    },
  };
}
