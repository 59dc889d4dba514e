/**
 * One run of `pipeline send`: pick the input and the queue, feed every message to the producer,
 * drain it (also after Ctrl-C or a bad stdin line), then print the summary.
 */

import { resolve } from 'node:path';
import { PipelineError } from '../../core/errors.ts';
import { isFifoQueueUrl, PipelineProducer } from '../../sqs/index.ts';
import { MalformedLineError, UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { fifoMessageIds } from './fifo-group.ts';
import { checkSourceFlags, checkTenantFlags, type SendFlags, syntheticWorkloadOf } from './flags.ts';
import { fileSource, type Source, stdinSource, syntheticSource } from './inputs.ts';
import { BadLineError } from './jsonl.ts';
import { startProgress } from './progress.ts';
import { resolveTarget } from './queue.ts';
import { formatSummary, type SendSummary, summarize } from './summary.ts';
import { rawBodyTenant, tenantOption } from './tenant.ts';
import { startSendTrace } from './trace.ts';

/**
 * Sends `file` (`-` for stdin; `undefined` for the synthetic workload) and prints the summary.
 * `userSet` says a flag was typed, not defaulted. Throws a `CliError` for bad input; a bad stdin
 * line throws after the summary of what was sent before it.
 */
export async function runSend(
  file: string | undefined,
  flags: SendFlags,
  userSet: (name: string) => boolean,
  io: CliIo,
): Promise<SendSummary> {
  checkSourceFlags(file, flags, userSet);
  const source = await openSource(file, flags, io);
  const target = await resolveTarget(flags, userSet('queue'), io.cwd);
  const fifo = isFifoQueueUrl(target.queueUrl);
  try {
    if (!fifo && flags.fifoGroups !== undefined) {
      throw new UsageError(
        `--fifo-groups applies to FIFO queues only; ${target.queueUrl} is a standard queue`,
      );
    }
    checkTenantFlags(flags, target.queueUrl, fifo);
  } catch (error) {
    target.client.destroy();
    throw error;
  }

  let sendTrace: Awaited<ReturnType<typeof startSendTrace>>;
  try {
    sendTrace = await startSendTrace(target.queueUrl, flags.traceparent);
  } catch (error) {
    target.client.destroy();
    throw error;
  }
  const producer = new PipelineProducer({
    queueUrl: target.queueUrl,
    client: target.client,
    maxInFlight: flags.concurrency,
    maxDelayMs: flags.maxDelayMs,
    tenant: tenantOption(flags),
    traceContext: sendTrace.traceContext,
  });
  const fifoIds = fifoMessageIds(fifo, flags.fifoGroups);

  const started = performance.now();
  const progress = flags.quiet
    ? { stop: () => {} }
    : startProgress(io, source.total, started, () => producer.stats);
  let invalidSent = 0;
  let interrupted: boolean;
  let badLine: BadLineError | undefined;
  try {
    let seq = 0;
    for await (const outgoing of source.messages) {
      if (io.signal?.aborted) break;
      const ids = fifoIds(outgoing.key, seq++);
      try {
        if ('message' in outgoing) {
          const { receipt } = await producer.enqueueMessage(outgoing.message, ids);
          receipt.catch(() => {}); // counted in producer.stats
        } else {
          const { body } = outgoing;
          const { receipt } = await producer.sender.enqueue({
            body,
            messageGroupId: ids.groupId ?? rawBodyTenant(flags, body),
            messageDeduplicationId: ids.dedupId,
          });
          receipt.then(
            () => invalidSent++,
            () => {},
          );
        }
      } catch (error) {
        // Refused locally (counted in producer.stats); anything else is a bug.
        if (!(error instanceof PipelineError)) throw error;
      }
    }
  } catch (error) {
    if (!(error instanceof BadLineError)) throw error;
    badLine = error;
  } finally {
    interrupted = io.signal?.aborted === true;
    // Drains: every message read so far is sent once; nothing after a stop is read.
    await producer.close();
    progress.stop();
    target.client.destroy();
    await sendTrace.end(producer.stats);
  }

  const stats = producer.stats;
  const summary = summarize(stats, {
    queueUrl: target.queueUrl,
    source: source.name,
    ...(file === undefined ? { seed: flags.seed } : {}),
    invalidSent,
    elapsedMs: performance.now() - started,
    interrupted,
    ...(sendTrace.traceId === undefined ? {} : { traceId: sendTrace.traceId }),
  });
  io.stdout.write(formatSummary(summary, flags.json === true));
  if (badLine) throw new MalformedLineError(source.name, badLine.line, badLine.message, stats.sent);
  return summary;
}

async function openSource(file: string | undefined, flags: SendFlags, io: CliIo): Promise<Source> {
  if (file === undefined) {
    return syntheticSource(syntheticWorkloadOf(flags));
  }
  const tenant = tenantOption(flags);
  return file === '-'
    ? stdinSource(io.stdin, io.signal, tenant)
    : await fileSource(resolve(io.cwd, file), io.signal, tenant);
}
