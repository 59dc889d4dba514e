/**
 * Settles as `work` does, unless `ms` pass first: then as `onTimeout` does (its return value
 * resolves, what it throws rejects). `work` is not cancelled; its timer is cleared either way, so a
 * finished race keeps no timer (nor the process) alive.
 *
 * @example
 * const response = await withTimeout(handler(event), 30_000, () => {
 *   throw new HandlerTimeoutError(30_000);
 * });
 * const inTime = await withTimeout(flush().then(() => true), msLeft, () => false);
 */
export async function withTimeout<T, U = never>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => U,
): Promise<T | U> {
  let handle: NodeJS.Timeout | undefined;
  const late = new Promise<U>((resolve, reject) => {
    handle = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(handle);
  }
}
