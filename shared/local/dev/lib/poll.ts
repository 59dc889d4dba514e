import { DemoTimeoutError } from './errors.ts';

/**
 * Calls `probe` until it returns something other than `undefined`, then resolves with it; throws
 * `DemoTimeoutError` once `timeoutMs` has passed. Waits poll, so a slow machine makes a demo slower,
 * never wrong.
 *
 * @example
 * const item = await waitUntil(() => getItem(key), { what: 'the audit item' });
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { readonly what: string; readonly timeoutMs?: number; readonly intervalMs?: number },
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new DemoTimeoutError(options.what, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
