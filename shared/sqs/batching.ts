/** What batch selection needs to know about a buffered message. */
export interface BatchCandidate {
  /** Size as SQS counts it (see `entryBytes`). */
  readonly bytes: number;
  /** FIFO message group, if any. */
  readonly group?: string | undefined;
}

export interface BatchLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export interface BatchSelection {
  /** Queue positions of the chosen entries, ascending. */
  readonly indices: readonly number[];
  readonly bytes: number;
  /** No further entry could join: the entry limit was reached or the next entry would pass the byte limit. */
  readonly full: boolean;
}

/**
 * Chooses the entries of the next SendMessageBatch: at most `maxEntries`, at most `maxBytes` in
 * total, stopping at the first entry that does not fit rather than reaching past it.
 *
 * Standard queues (no `blockedGroups`): the oldest entries, in order.
 *
 * FIFO queues: `blockedGroups` are groups that already have a request in flight; their entries are
 * skipped, because two requests of one group in flight at once could be stored out of order. The
 * batch is filled group by group (the group of the oldest entry first, then the next group to
 * appear), each group's entries oldest first, so that few groups are tied to one request and others
 * can go out in parallel.
 */
export function selectBatch(
  queue: readonly BatchCandidate[],
  limits: BatchLimits,
  blockedGroups?: ReadonlySet<string>,
): BatchSelection {
  const order = blockedGroups === undefined ? queue.keys() : groupFirst(queue, blockedGroups);
  const indices: number[] = [];
  let bytes = 0;
  for (const i of order) {
    const candidate = queue[i]!;
    if (indices.length === limits.maxEntries || bytes + candidate.bytes > limits.maxBytes) {
      return { indices: indices.sort((a, b) => a - b), bytes, full: true };
    }
    indices.push(i);
    bytes += candidate.bytes;
  }
  return { indices: indices.sort((a, b) => a - b), bytes, full: indices.length === limits.maxEntries };
}

/** Queue positions of unblocked entries, grouped: groups by first appearance, each oldest first. */
function groupFirst(queue: readonly BatchCandidate[], blocked: ReadonlySet<string>): number[] {
  const byGroup = new Map<string | undefined, number[]>();
  for (const [i, candidate] of queue.entries()) {
    if (candidate.group !== undefined && blocked.has(candidate.group)) continue;
    const positions = byGroup.get(candidate.group);
    if (positions) positions.push(i);
    else byGroup.set(candidate.group, [i]);
  }
  return [...byGroup.values()].flat();
}
