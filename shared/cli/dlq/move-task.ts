/**
 * A whole-queue redrive done by SQS itself: `StartMessageMoveTask` (SourceArn = the DLQ,
 * DestinationArn, MaxNumberOfMessagesPerSecond), followed with `ListMessageMoveTasks` until it
 * ends. A task already running for the DLQ (started by an earlier run or the console) is followed
 * instead of started again. An endpoint without these actions answers `unsupported`, and the
 * caller falls back to the mover.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DlqRequestError, MessageMoveTaskError } from '../errors.ts';
import { request } from './sqs.ts';

/** SQS's range for MaxNumberOfMessagesPerSecond. */
export const MOVE_TASK_MAX_RATE = 500;

export interface MoveTaskOptions {
  readonly client: SQSClient;
  /** The DLQ's URL (for error messages) and ARN. */
  readonly sourceUrl: string;
  readonly sourceArn: string;
  readonly destinationArn: string;
  /** An integer from 1 to 500. @default SQS's own (up to 500 messages/s) */
  readonly ratePerSecond?: number;
  /** Stops following (the task goes on in SQS). */
  readonly signal?: AbortSignal;
  /** @default 1000 */
  readonly pollMs?: number;
  readonly onProgress?: (task: MoveTaskState) => void;
}

/** A move task as ListMessageMoveTasks reports it. */
export interface MoveTaskState {
  readonly status: string;
  readonly moved: number;
  readonly toMove?: number;
  readonly failureReason?: string;
  /** Present while it runs: `aws sqs cancel-message-move-task --task-handle …` stops it. */
  readonly taskHandle?: string;
}

export type MoveTaskOutcome =
  | { readonly kind: 'unsupported'; readonly reason: string }
  | {
      readonly kind: 'ended' | 'interrupted';
      readonly task: MoveTaskState;
      /** A task already running was followed, not started. */
      readonly attached: boolean;
    };

const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const UNSUPPORTED_NAMES = new Set([
  'UnsupportedOperation',
  'AWS.SimpleQueueService.UnsupportedOperation',
  'InvalidAction',
  'UnknownOperationException',
  'UnknownOperation',
  'NotImplemented',
]);

/** Whether an SQS error means the endpoint does not implement the action (an emulator). */
export function isUnsupportedOperation(error: unknown): boolean {
  const cause = error instanceof DlqRequestError ? error.cause : error;
  if (typeof cause !== 'object' || cause === null) return false;
  const e = cause as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return (typeof e.name === 'string' && UNSUPPORTED_NAMES.has(e.name)) || e.$metadata?.httpStatusCode === 501;
}

/**
 * Starts (or joins) the move task and follows it until it ends or `signal` aborts.
 *
 * @throws MessageMoveTaskError when SQS refuses to start it
 * @throws DlqRequestError when following it fails
 */
export async function runMoveTask(options: MoveTaskOptions): Promise<MoveTaskOutcome> {
  const { client, sourceArn, sourceUrl } = options;
  let running: ListMessageMoveTasksResultEntry | undefined;
  try {
    running = (await listTasks(options)).find((task) => task.Status === 'RUNNING');
  } catch (error) {
    if (isUnsupportedOperation(error)) return { kind: 'unsupported', reason: reasonOf(error) };
    throw error;
  }
  let handle = running?.TaskHandle;
  if (!running) {
    try {
      ({ TaskHandle: handle } = await request('StartMessageMoveTask', sourceUrl, () =>
        client.send(
          new StartMessageMoveTaskCommand({
            SourceArn: sourceArn,
            DestinationArn: options.destinationArn,
            ...(options.ratePerSecond === undefined
              ? {}
              : { MaxNumberOfMessagesPerSecond: options.ratePerSecond }),
          }),
        ),
      ));
    } catch (error) {
      if (isUnsupportedOperation(error)) return { kind: 'unsupported', reason: reasonOf(error) };
      throw new MessageMoveTaskError(
        sourceArn,
        `SQS refused to start it: ${reasonOf(error)}; --mover moves the messages with receive, send and delete instead`,
        { cause: error },
      );
    }
  }
  let startedAt = running?.StartedTimestamp;
  for (;;) {
    const tasks = await listTasks(options);
    const ours =
      tasks.find((task) => handle !== undefined && task.TaskHandle === handle) ??
      tasks.find((task) => startedAt !== undefined && task.StartedTimestamp === startedAt) ??
      tasks[0];
    const state: MoveTaskState = ours ? stateOf(ours) : { status: 'UNKNOWN', moved: 0 };
    if (ours) {
      startedAt ??= ours.StartedTimestamp;
      options.onProgress?.(state);
      if (ENDED.has(state.status)) return { kind: 'ended', task: state, attached: running !== undefined };
    }
    if (options.signal?.aborted) return { kind: 'interrupted', task: state, attached: running !== undefined };
    try {
      await sleep(options.pollMs ?? 1000, undefined, options.signal ? { signal: options.signal } : {});
    } catch {
      // Aborted: report the last state on the next pass.
    }
  }
}

async function listTasks(options: MoveTaskOptions): Promise<ListMessageMoveTasksResultEntry[]> {
  const { Results = [] } = await request('ListMessageMoveTasks', options.sourceUrl, () =>
    options.client.send(new ListMessageMoveTasksCommand({ SourceArn: options.sourceArn, MaxResults: 10 })),
  );
  return Results;
}

function stateOf(task: ListMessageMoveTasksResultEntry): MoveTaskState {
  return {
    status: task.Status ?? 'UNKNOWN',
    moved: task.ApproximateNumberOfMessagesMoved ?? 0,
    ...(task.ApproximateNumberOfMessagesToMove === undefined
      ? {}
      : { toMove: task.ApproximateNumberOfMessagesToMove }),
    ...(task.FailureReason ? { failureReason: task.FailureReason } : {}),
    ...(task.TaskHandle ? { taskHandle: task.TaskHandle } : {}),
  };
}

function reasonOf(error: unknown): string {
  const cause = error instanceof DlqRequestError ? error.cause : error;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
