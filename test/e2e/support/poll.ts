/**
 * Waiting without timing assumptions: every wait polls until a condition holds and gives up only
 * after a generous deadline, so a slow machine or a cold start makes a test slower, never wrong.
 */

/** How long a wait may take before it fails. Well under the project's 180 s test timeout. */
export const DEFAULT_DEADLINE_MS = 120_000;

/** A condition did not hold before its deadline; `last` is what the probe last saw. */
export class ConditionTimeoutError extends Error {
  override readonly name = 'ConditionTimeoutError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly last: unknown,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${describe(last)}`);
  }
}

export interface EventuallyOptions {
  /** What is awaited, for the error. */
  readonly what: string;
  /** @default DEFAULT_DEADLINE_MS */
  readonly timeoutMs?: number;
  /** Pause between probes. @default 500 */
  readonly intervalMs?: number;
}

/** A probe's report that the condition holds, with the value to return. */
export interface Done<T> {
  readonly done: true;
  readonly value: T;
}

/** A probe's report that the condition does not hold yet, with what it saw (for the timeout's message). */
export interface NotYet {
  readonly done: false;
  readonly seen?: unknown;
}

/** What a probe reports: `done(value)` or `notYet(seen)`. */
export type Probe<T> = Done<T> | NotYet;

/**
 * Calls `probe` until it reports `done`, then resolves with its value; throws
 * `ConditionTimeoutError` (with the last thing seen) once the deadline has passed.
 *
 * @example
 * const item = await eventually(async () => {
 *   const found = await getItem(table, key);
 *   return found?._version === 9 ? done(found) : notYet(found);
 * }, { what: 'version 9 of the item' });
 */
export async function eventually<T>(probe: () => Promise<Probe<T>>, options: EventuallyOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DEADLINE_MS;
  const intervalMs = options.intervalMs ?? 500;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result.done) return result.value;
    if (Date.now() >= deadline) throw new ConditionTimeoutError(options.what, timeoutMs, result.seen);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Probe helpers: `done(value)` / `notYet(seen)`. */
export const done = <T>(value: T): Done<T> => ({ done: true, value });
export const notYet = (seen?: unknown): NotYet => ({ done: false, seen });

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
