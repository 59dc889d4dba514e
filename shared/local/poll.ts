import { WaitTimeoutError } from './errors.ts';

export interface WaitOptions {
  /** What is awaited, for the error; a function is called only then (it may report what was seen). */
  readonly what: string | (() => string);
  /** @default 90_000 */
  readonly timeoutMs?: number;
  /** Pause between probes. @default 200 */
  readonly intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than `undefined`, then resolves with it; throws
 * `WaitTimeoutError` once `timeoutMs` has passed. Waits poll, so a slow machine makes a demo or a
 * test slower, never wrong.
 *
 * @example
 * const item = await waitUntil(() => getItem(key), { what: 'the audit item' });
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw new WaitTimeoutError(typeof options.what === 'string' ? options.what : options.what(), timeoutMs);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
