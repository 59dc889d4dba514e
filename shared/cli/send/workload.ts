/**
 * The synthetic workload of `pipeline send --count`: deterministic contract-v1 puts over uniform or
 * Zipf keys, optionally versioned, shuffled or invalid on purpose. Also used by the benchmarks.
 */

import type { Message } from '../../contract/index.ts';
import { mulberry32 } from '../../core/random.ts';
import { writePathSettings } from '../../pipeline/settings.ts';

/** How keys are drawn: every key equally likely, or Zipf (rank r has weight 1 / r^s; hot keys). */
export type KeyDistribution = { readonly kind: 'uniform' } | { readonly kind: 'zipf'; readonly s: number };

export interface WorkloadOptions {
  /** Messages to generate. */
  readonly count: number;
  /** Distinct keys (`key-0` … `key-<n-1>`; under Zipf `key-0` is the hottest). */
  readonly keys: number;
  readonly keyDistribution: KeyDistribution;
  /** Size of each item's JSON (`{"pk":…,"sk":…,"seq":…,"data":"xx…"}`), padded with `data`; at least the unpadded size. */
  readonly itemBytes: number;
  /** Give every message a version, 1, 2, 3… per key in generation order. */
  readonly versions: boolean;
  /** Emit messages out of generation order (a random pick from a sliding window), so versions of a key arrive out of order. */
  readonly shuffleVersions: boolean;
  /** Window of the shuffle. @default 1000 */
  readonly shuffleWindow?: number;
  /** Fraction (0..1) of messages the batch writer must reject. */
  readonly invalidRate: number;
  /** Logical table; omitted from messages (the default table) when undefined. */
  readonly table?: string;
  /** PRNG seed: the same options give the same messages. */
  readonly seed: number;
}

/** Ways the batch writer rejects a message: bad op, a table it does not route, a negative version. */
export const INVALID_KINDS = ['shape', 'unknown-table', 'version'] as const;
export type InvalidKind = (typeof INVALID_KINDS)[number];

/** Logical table the invalid `unknown-table` messages name; no pipeline routes it. */
export const UNKNOWN_TABLE = 'no_such_table';

export type WorkloadMessage =
  | { readonly index: number; readonly key: string; readonly valid: true; readonly message: Message }
  | {
      readonly index: number;
      readonly key: string;
      readonly valid: false;
      readonly kind: InvalidKind;
      /** Raw JSON body, to be sent without validation on purpose. */
      readonly body: string;
    };

/** A message before its place in the output is known (distributes over the union). */
type Generated = WorkloadMessage extends infer M ? (M extends unknown ? Omit<M, 'index'> : never) : never;

/**
 * Deterministic synthetic workload of contract-v1 puts. Lazy: memory is O(keys + shuffle window),
 * not O(count).
 */
export function* generateWorkload(options: WorkloadOptions): Generator<WorkloadMessage> {
  const random = mulberry32(options.seed);
  const drawKey = keySampler(options.keys, options.keyDistribution, random);
  const nextVersion = new Uint32Array(options.versions ? options.keys : 0);
  const window = options.shuffleVersions ? Math.max(1, options.shuffleWindow ?? 1000) : 1;
  const { partitionKey, sortKey } = writePathSettings.table;
  const table = options.table === undefined ? {} : { table: options.table };

  const generate = (seq: number): Generated => {
    const rank = drawKey();
    const key = `key-${rank}`;
    const item = sizedItem({ [partitionKey]: key, [sortKey]: 'item', seq }, options.itemBytes);
    if (random() < options.invalidRate) {
      const kind = INVALID_KINDS[Math.floor(random() * INVALID_KINDS.length)]!;
      return { key, valid: false, kind, body: JSON.stringify(invalidMessage(kind, item, table)) };
    }
    const version = options.versions ? { version: ++nextVersion[rank]! } : {};
    return { key, valid: true, message: { op: 'put', ...table, item, ...version } };
  };

  const pool: Generated[] = [];
  let index = 0;
  for (let seq = 0; seq < options.count; seq++) {
    pool.push(generate(seq));
    if (pool.length === window) yield { ...takeRandom(pool, random), index: index++ } as WorkloadMessage;
  }
  while (pool.length > 0) yield { ...takeRandom(pool, random), index: index++ } as WorkloadMessage;
}

function invalidMessage(kind: InvalidKind, item: Record<string, unknown>, table: object): object {
  switch (kind) {
    case 'shape':
      return { op: 'upsert', ...table, item };
    case 'unknown-table':
      return { op: 'put', table: UNKNOWN_TABLE, item };
    case 'version':
      return { op: 'put', ...table, item, version: -1 };
  }
}

/** An item whose JSON is exactly `bytes` long (ASCII padding in `data`), or the unpadded item if larger. */
export function sizedItem(base: Record<string, unknown>, bytes: number): Record<string, unknown> {
  const empty = { ...base, data: '' };
  const pad = bytes - Buffer.byteLength(JSON.stringify(empty), 'utf8');
  return pad > 0 ? { ...base, data: 'x'.repeat(pad) } : empty;
}

function takeRandom<T>(pool: T[], random: () => number): T {
  const i = Math.floor(random() * pool.length);
  const chosen = pool[i]!;
  pool[i] = pool[pool.length - 1]!;
  pool.pop();
  return chosen;
}

/** Returns a function drawing key ranks 0..keys-1 from the distribution. */
export function keySampler(keys: number, distribution: KeyDistribution, random: () => number): () => number {
  if (distribution.kind === 'uniform' || distribution.s === 0) return () => Math.floor(random() * keys);
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let r = 0; r < keys; r++) {
    total += 1 / (r + 1) ** distribution.s;
    cdf[r] = total;
  }
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
