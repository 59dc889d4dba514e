export interface MicroBatcherOptions<T> {
  /** Longest the oldest waiting item waits for companions before a partial batch runs. */
  readonly maxDelayMs: number;
  /** The batch size allowed now (it may change between batches: throttling, out of memory). */
  readonly limit: () => number;
  /** Runs one batch; the next batch starts when it settles (one at a time: the GPU is one). */
  readonly run: (key: string, items: T[]) => Promise<void>;
  /** Called when `run` rejects (it should not: errors belong to the items). */
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

interface Waiting<T> {
  readonly item: T;
  readonly at: number;
}

/**
 * Micro-batching across messages: items queue per key (a model version) and run as one batch when
 * `limit()` of them are waiting or the oldest has waited `maxDelayMs`. Batches run one at a time;
 * items that arrive meanwhile make the next batch fuller.
 */
export class MicroBatcher<T> {
  private readonly queues = new Map<string, Waiting<T>[]>();
  private readonly now: () => number;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: MicroBatcherOptions<T>) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Items waiting (not yet in a batch). */
  get size(): number {
    let size = 0;
    for (const queue of this.queues.values()) size += queue.length;
    return size;
  }

  /** Whether a batch is running. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  add(key: string, item: T): void {
    if (this.stopped) throw new Error('MicroBatcher is stopped');
    const queue = this.queues.get(key) ?? [];
    queue.push({ item, at: this.now() });
    this.queues.set(key, queue);
    this.pump();
  }

  /** No new batch starts after this; the running one finishes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Removes and returns every waiting item (after `stop()`: the work to hand back). */
  drain(): T[] {
    const items = [...this.queues.values()].flat().map((w) => w.item);
    this.queues.clear();
    return items;
  }

  /** Resolves when no batch is running. */
  idle(): Promise<void> {
    if (this.running === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.running !== undefined || this.stopped) return;
    const next = this.nextBatch();
    if (next === undefined) {
      this.armTimer();
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.options
      .run(next.key, next.items)
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.running = undefined;
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        this.pump();
      });
  }

  /** The oldest queue that is full or due, taken up to the limit. */
  private nextBatch(): { key: string; items: T[] } | undefined {
    const limit = Math.max(1, this.options.limit());
    const now = this.now();
    let chosen: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [key, queue] of this.queues) {
      const head = queue[0];
      if (head === undefined) continue;
      const ready = queue.length >= limit || now - head.at >= this.options.maxDelayMs;
      if (ready && head.at < oldest) {
        chosen = key;
        oldest = head.at;
      }
    }
    if (chosen === undefined) return undefined;
    const queue = this.queues.get(chosen)!;
    const taken = queue.splice(0, limit).map((w) => w.item);
    if (queue.length === 0) this.queues.delete(chosen);
    return { key: chosen, items: taken };
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    let due = Number.POSITIVE_INFINITY;
    for (const queue of this.queues.values()) {
      if (queue[0]) due = Math.min(due, queue[0].at + this.options.maxDelayMs);
    }
    if (!Number.isFinite(due)) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, Math.ceil(due - this.now())),
    );
  }
}
