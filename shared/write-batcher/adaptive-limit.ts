/** A held place in the windows of the tables one request writes. */
export interface Permit {
  /**
   * DynamoDB answered: the windows of `throttled` tables halve (once per congestion event), the
   * others grow. A partial answer (UnprocessedItems) or a throttling error names its tables here.
   */
  answered(throttled?: Iterable<string>): void;
  /** The request failed without saying anything about capacity (a 5xx, a reset, a bad item, the deadline). */
  failed(): void;
}

/** Sizes every table's request window; `adaptiveConcurrency: false` uses the no-op below. */
export interface ConcurrencyWindows {
  /** Waits until every one of `tables` has room in its window, then holds a place in each. */
  acquire(tables: readonly string[]): Promise<Permit>;
}

/** Every request may go at once (the batcher's `maxConcurrency` alone bounds them). */
export const UNBOUNDED_WINDOWS: ConcurrencyWindows = {
  acquire: () => Promise.resolve({ answered() {}, failed() {} }),
};

export interface AdaptiveWindowsOptions {
  /** No window grows past this (the batcher's `maxConcurrency`). */
  readonly maxConcurrency: number;
  /** Where each table's window starts. @default min(4, maxConcurrency) */
  readonly initialWindow?: number;
}

interface TableWindow {
  /** Requests allowed in flight (its floor); fractional, so it can grow by a fraction per answer. */
  size: number;
  /** Below it the window doubles per window of answers (slow start); above, it grows by one. */
  threshold: number;
  inFlight: number;
  /** Bumped on every decrease: answers to requests sent before it carry no fresh news. */
  epoch: number;
  readonly waiting: Array<() => void>;
}

/**
 * Per-table AIMD concurrency (as TCP's congestion window): each table's window halves when DynamoDB
 * throttles a request and grows by one per two windows of answered requests, within
 * [1, maxConcurrency]. Until its first throttle a table's window doubles per window of answers
 * instead (TCP's slow start), so a table DynamoDB never throttles reaches `maxConcurrency` within a
 * few round trips. The growth of one per *two* windows is measured (`npm run bench -- throttling`):
 * one per window probes the table's capacity twice as often, and each probe throttles about a
 * window of requests — 5–6 % of requests against 3 % — for no more throughput.
 * The throttles of requests already in flight when the window halved belong to the same congestion
 * event and do not halve it again; nor do their answers grow it.
 *
 * Deterministic: no clock, only the answers it is told about.
 *
 * @example
 * const windows = new AdaptiveWindows({ maxConcurrency: 32 });
 * const permit = await windows.acquire(['orders']);
 * permit.answered(output.UnprocessedItems ? Object.keys(output.UnprocessedItems) : []);
 */
export class AdaptiveWindows implements ConcurrencyWindows {
  private readonly maxConcurrency: number;
  private readonly initialWindow: number;
  private readonly tables = new Map<string, TableWindow>();

  constructor(options: AdaptiveWindowsOptions) {
    this.maxConcurrency = options.maxConcurrency;
    this.initialWindow = clamp(
      options.initialWindow ?? Math.min(4, options.maxConcurrency),
      options.maxConcurrency,
    );
  }

  /** The window of `table` now (requests it lets in flight at once). */
  windowOf(table: string): number {
    return Math.floor(this.tableWindow(table).size);
  }

  /** Requests to `table` in flight now. */
  inFlightOf(table: string): number {
    return this.tableWindow(table).inFlight;
  }

  async acquire(tables: readonly string[]): Promise<Permit> {
    // One order for every request, so two requests never each hold a table the other waits for.
    const names = [...new Set(tables)].sort();
    const held: Array<{ name: string; window: TableWindow; epoch: number }> = [];
    for (const name of names) {
      const window = this.tableWindow(name);
      if (window.inFlight >= Math.floor(window.size)) {
        await new Promise<void>((resolve) => window.waiting.push(resolve));
      } else {
        window.inFlight++;
      }
      held.push({ name, window, epoch: window.epoch });
    }
    let released = false;
    const release = (throttled: ReadonlySet<string> | undefined) => {
      if (released) return;
      released = true;
      for (const { name, window, epoch } of held) {
        window.inFlight--;
        if (throttled !== undefined && epoch === window.epoch) {
          if (throttled.has(name)) {
            window.size = clamp(window.size / 2, this.maxConcurrency);
            window.threshold = window.size;
            window.epoch++;
          } else {
            const step = window.size < window.threshold ? 1 : 1 / (2 * Math.floor(window.size));
            window.size = clamp(window.size + step, this.maxConcurrency);
          }
        }
        wake(window);
      }
    };
    return {
      answered: (throttled = []) => release(new Set(throttled)),
      failed: () => release(undefined),
    };
  }

  private tableWindow(name: string): TableWindow {
    let window = this.tables.get(name);
    if (window === undefined) {
      window = {
        size: this.initialWindow,
        threshold: this.maxConcurrency,
        inFlight: 0,
        epoch: 0,
        waiting: [],
      };
      this.tables.set(name, window);
    }
    return window;
  }
}

/** Lets waiting requests in while the window has room; each takes its place before it wakes. */
function wake(window: TableWindow): void {
  while (window.waiting.length > 0 && window.inFlight < Math.floor(window.size)) {
    window.inFlight++;
    window.waiting.shift()!();
  }
}

function clamp(size: number, maxConcurrency: number): number {
  return Math.min(maxConcurrency, Math.max(1, size));
}
