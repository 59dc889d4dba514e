import type { MiddlewareObj, Request } from '@middy/core';
import type { Tracing } from './tracing.ts';

export interface FlushTracesOptions {
  readonly tracing: Tracing;
  /** Longest the flush may hold the invocation; also bounded by the time the invocation has left. @default 1000 */
  readonly timeoutMs?: number;
  /** Kept free of the flush at the end of the invocation's time. @default 200 */
  readonly marginMs?: number;
}

const defaults = { timeoutMs: 1000, marginMs: 200 } as const;

/** The part of Lambda's context the flush needs. */
interface RemainingTime {
  readonly getRemainingTimeInMillis?: () => number;
}

/**
 * Exports the invocation's spans before it returns (`after`) or fails (`onError`): Lambda freezes
 * the process between invocations, so a span left in the processor's buffer could wait there for
 * minutes, or be lost with the instance. The flush is bounded by `timeoutMs` and by the time the
 * invocation has left (less `marginMs`), and never fails the invocation: a collector that is down
 * costs at most the timeout. Add it only when tracing is on.
 *
 * @example
 * middy(handler).use(flushTraces({ tracing }))
 */
export function flushTraces<TEvent, TResult>(
  options: FlushTracesOptions,
): MiddlewareObj<TEvent, TResult, Error, RemainingTime> {
  const { tracing, timeoutMs, marginMs } = { ...defaults, ...options };

  const flushTracesAfter = async (request: Request<TEvent, TResult, Error, RemainingTime>): Promise<void> => {
    const remaining = request.context.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    const budget = Math.min(timeoutMs, remaining - marginMs);
    if (budget > 0) await tracing.flush(budget);
  };

  return { name: 'flushTraces', after: flushTracesAfter, onError: flushTracesAfter };
}
