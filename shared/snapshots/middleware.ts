import type { MiddlewareObj, Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { SnapshotReader } from './reader.ts';
import type { Caller } from './rollout.ts';
import type { Snapshot } from './types.ts';

/** The handler's context once the middleware ran: `context.snapshot` is the frozen snapshot. */
export type SnapshotContext<T> = Context & { snapshot: Snapshot<T> };

export interface SnapshotMiddlewareOptions<T, TEvent = unknown> {
  readonly reader: SnapshotReader<T>;
  /**
   * Picks the caller of a staged rollout from the request (e.g. a tenant in the event); `undefined`
   * gives the reader's own assignment (`reader.get()`).
   * @default () => undefined
   */
  readonly caller?: (request: Request<TEvent, unknown, Error, Context>) => Caller | undefined;
  /** Wait for a refresh that is due before the handler runs (else refresh in the background). @default true */
  readonly awaitRefresh?: boolean;
}

const defaults = {
  caller: () => undefined,
  awaitRefresh: true,
} as const;

/**
 * Puts the current snapshot on `context.snapshot` for the handler. The first invocation loads it
 * (a failure fails the invocation, so the event is retried); later ones refresh it once it is past
 * max age, and keep serving the last good one if that fails. The snapshot is taken once per
 * invocation, so a handler sees one version from start to end.
 *
 * @example
 * export const handler = middy(async (event: SQSEvent, context: SnapshotContext<PipelineConfig>) =>
 *   route(event, routerFor(context.snapshot.data)),
 * ).use(snapshotMiddleware({ reader }));
 */
export function snapshotMiddleware<T, TEvent = unknown>(
  options: SnapshotMiddlewareOptions<T, TEvent>,
): MiddlewareObj<TEvent, unknown, Error, Context> {
  const { reader, caller, awaitRefresh } = { ...defaults, ...options };

  const snapshotMiddlewareBefore = async (
    request: Request<TEvent, unknown, Error, Context>,
  ): Promise<void> => {
    if (awaitRefresh) await reader.ready();
    else await reader.load();
    const who = caller(request);
    (request.context as SnapshotContext<T>).snapshot = who === undefined ? reader.get() : reader.getFor(who);
  };

  // The context object outlives the invocation in some test harnesses and runtimes: drop the
  // reference so an old snapshot is not kept alive after a new one is adopted.
  const snapshotMiddlewareAfter = (request: Request<TEvent, unknown, Error, Context>): void => {
    delete (request.context as Partial<SnapshotContext<T>>).snapshot;
  };

  return {
    name: 'snapshot',
    before: snapshotMiddlewareBefore,
    after: snapshotMiddlewareAfter,
    onError: snapshotMiddlewareAfter,
  };
}
