/**
 * One run of `pipeline dlq redrive`: pick the DLQ and the destination, then let SQS move the whole
 * queue (`StartMessageMoveTask`), or move it with the journaled mover when a filter, a dry run or
 * `--mover` asks for it, or when the endpoint has no move tasks (the local emulators' gateways).
 */

import { resolve } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { isFifoQueueUrl } from '../../sqs/index.ts';
import { UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { RedriveFlags } from './flags.ts';
import { defaultJournalPath, RedriveJournal } from './journal.ts';
import { MOVE_TASK_MAX_RATE, type MoveTaskState, runMoveTask } from './move-task.ts';
import { Mover } from './mover.ts';
import { startProgress } from './progress.ts';
import { resolveDestination, resolveDlq } from './queues.ts';
import { queueAttributes, queueDepth } from './sqs.ts';
import { exitCodeOf, formatRedriveSummary, type RedriveSummary } from './summary.ts';
import { TokenBucket } from './token-bucket.ts';

/** The queues of a redrive and the client for both. */
export interface RedriveTarget {
  readonly client: SQSClient;
  /** The dead-letter queue. */
  readonly source: string;
  readonly destination: string;
}

/** Resolves the queues from the flags, redrives, prints the summary; resolves with its exit status. */
export async function runRedrive(flags: RedriveFlags, io: CliIo): Promise<number> {
  const dlq = await resolveDlq(flags, io.cwd);
  try {
    const destination = await resolveDestination(dlq, flags.to);
    const summary = await redrive({ client: dlq.client, source: dlq.dlqUrl, destination }, flags, io);
    io.stdout.write(formatRedriveSummary(summary, flags.json === true));
    return exitCodeOf(summary);
  } finally {
    dlq.client.destroy();
  }
}

/**
 * Redrives `target.source` to `target.destination` as the flags say.
 *
 * @throws UsageError for a standard queue paired with a FIFO one, or a rate move tasks refuse
 * @throws MessageMoveTaskError, DlqRequestError, RedriveJournalError
 */
export async function redrive(
  target: RedriveTarget,
  flags: RedriveFlags,
  io: CliIo,
): Promise<RedriveSummary> {
  const { client, source, destination } = target;
  if (isFifoQueueUrl(source) !== isFifoQueueUrl(destination)) {
    throw new UsageError(
      `${source} and ${destination} must both be FIFO queues or both standard queues (a redrive keeps the queue type)`,
    );
  }
  const started = performance.now();
  const base = {
    source,
    destination,
    dryRun: flags.dryRun === true,
    codes: flags.filter?.codes ?? null,
  };
  const showProgress = flags.json !== true && flags.quiet !== true;

  let fallbackReason: string | undefined;
  if (!flags.mover && !flags.filter && !flags.dryRun) {
    const rate = flags.rate;
    if (rate !== undefined && (!Number.isInteger(rate) || rate > MOVE_TASK_MAX_RATE)) {
      throw new UsageError(
        `--rate ${rate}: SQS message move tasks take a whole number of messages per second from 1 to ` +
          `${MOVE_TASK_MAX_RATE}; pass one, or add --mover to move at ${rate}/s with receive, send and delete`,
      );
    }
    const [sourceArn, destinationArn] = await Promise.all(
      [source, destination].map(async (url) => (await queueAttributes(client, url, ['QueueArn'])).QueueArn!),
    );
    let latest: MoveTaskState = { status: 'STARTING', moved: 0 };
    const progress = startProgress(
      io,
      'redriving',
      () => ({ done: latest.moved, ...(latest.toMove === undefined ? {} : { total: latest.toMove }) }),
      showProgress,
    );
    let outcome: Awaited<ReturnType<typeof runMoveTask>>;
    try {
      outcome = await runMoveTask({
        client,
        sourceUrl: source,
        sourceArn: sourceArn!,
        destinationArn: destinationArn!,
        ...(rate === undefined ? {} : { ratePerSecond: rate }),
        ...(io.signal ? { signal: io.signal } : {}),
        onProgress: (task) => {
          latest = task;
        },
      });
    } finally {
      progress.stop();
    }
    if (outcome.kind !== 'unsupported') {
      return {
        ...base,
        method: 'move-task',
        task: outcome.task,
        attached: outcome.attached,
        elapsedMs: Math.round(performance.now() - started),
        interrupted: outcome.kind === 'interrupted',
      };
    }
    fallbackReason = outcome.reason;
  }

  const journalPath = flags.journal
    ? resolve(io.cwd, flags.journal)
    : defaultJournalPath(io.cwd, { source, destination });
  const journal = RedriveJournal.open(journalPath, { source, destination });
  const depth = await queueDepth(client, source).catch(() => undefined);
  const mover = new Mover({
    client,
    source,
    destination,
    journal,
    ...(flags.filter ? { codes: flags.filter.codes } : {}),
    dryRun: flags.dryRun === true,
    ...(flags.rate === undefined ? {} : { bucket: new TokenBucket({ ratePerSecond: flags.rate }) }),
    visibilityTimeoutS: flags.visibilityTimeout,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  const progress = startProgress(
    io,
    flags.dryRun ? 'scanning' : 'redriving',
    () => {
      const { moved, left, failed } = mover.stats;
      return { done: moved + left + failed, ...(depth ? { total: depth.visible } : {}) };
    },
    showProgress,
  );
  try {
    await mover.run();
  } finally {
    progress.stop();
    journal.close();
  }
  const stats = mover.stats;
  return {
    ...base,
    method: 'mover',
    ...stats,
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
    ...(journal.pending().size > 0 ? { journal: journalPath } : {}),
    elapsedMs: Math.round(performance.now() - started),
    interrupted: io.signal?.aborted === true,
  };
}
