import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { parseMessage } from '../../shared/contract/index.ts';
import type { PipelineError } from '../../shared/core/errors.ts';
import type { DeadLetter, DeadLetterSink } from '../../shared/pipeline/dead-letter.ts';
import type { Router } from '../../shared/pipeline/routing.ts';
import {
  type Deadline,
  finalOutcome,
  type Outcome,
  type WriteBatcher,
  type WriteRequest,
  type WriteStats,
} from '../../shared/write-batcher/index.ts';

export interface IngestDeps {
  readonly router: Pick<Router, 'session'>;
  readonly batcher: Pick<WriteBatcher, 'writeAll'>;
  readonly deadLetters: DeadLetterSink;
  readonly deadline: Deadline;
  /** Gets one DEBUG line per stale write (see `logStaleWrites`). @default stale writes are not logged */
  readonly logger?: Pick<Logger, 'debug'>;
}

/** What happened to one batch, for logs, metrics and the demo. */
export interface IngestSummary {
  readonly records: number;
  /** Messages whose write was applied, superseded by a later one, or stale (all success). */
  readonly succeeded: number;
  /** Permanent rejects sent to the DLQ, by error code. */
  readonly deadLettered: Readonly<Record<string, number>>;
  /** Messages reported in batchItemFailures (retried by SQS). */
  readonly failed: number;
  readonly writes: WriteStats;
}

export interface IngestResult {
  readonly batchItemFailures: SQSBatchItemFailure[];
  readonly summary: IngestSummary;
}

type Verdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'failed' }
  | { readonly kind: 'reject'; readonly error: PipelineError }
  | { readonly kind: 'deadLettered' };

const OK: Verdict = { kind: 'ok' };
const FAILED: Verdict = { kind: 'failed' };
const DEAD_LETTERED: Verdict = { kind: 'deadLettered' };

/**
 * SQS records → parse → route → WriteBatcher → outcome → batch response. Only retryable failures are
 * reported back to SQS; permanent rejects go to the DLQ with their reason (or are reported failed if
 * that send fails, so nothing is lost). FIFO: after a failure in a message group, every later message
 * of that group is reported failed too, so the group's order holds. A standard queue's
 * MessageGroupId (an SQS fair-queue tenant) orders nothing, so it changes neither.
 */
export async function processIngestBatch(
  records: readonly SQSRecord[],
  deps: IngestDeps,
): Promise<IngestResult> {
  const verdicts: Verdict[] = new Array(records.length);
  const requests: WriteRequest[] = [];
  const recordOf: number[] = [];
  // One routing session per batch: writes to one item of a round-robin sharded key share a shard.
  const routing = deps.router.session();

  records.forEach((record, i) => {
    try {
      const message = parseMessage(record.body);
      requests.push(routing.toWriteRequest(message, fifoGroupOf(record)));
      recordOf.push(i);
    } catch (error) {
      verdicts[i] = { kind: 'reject', error: error as PipelineError };
    }
  });

  const { outcomes, stats } = await deps.batcher.writeAll(requests, { deadline: deps.deadline });
  outcomes.forEach((outcome, r) => {
    verdicts[recordOf[r]!] = verdictOf(outcome);
  });
  if (deps.logger) logStaleWrites(deps.logger, outcomes, requests, (r) => records[recordOf[r]!]!);

  // Rejects behind a failure in their FIFO group are retried with it rather than dead-lettered now;
  // a dead-letter send that fails is itself a failure that holds back the rest of its group.
  holdBackAfterFailures(records, verdicts);
  const deadLettered = await sendRejects(records, verdicts, deps.deadLetters);
  holdBackAfterFailures(records, verdicts);

  const batchItemFailures: SQSBatchItemFailure[] = [];
  let succeeded = 0;
  verdicts.forEach((verdict, i) => {
    if (verdict.kind === 'failed') batchItemFailures.push({ itemIdentifier: records[i]!.messageId });
    else if (verdict.kind === 'ok') succeeded++;
  });
  return {
    batchItemFailures,
    summary: {
      records: records.length,
      succeeded,
      deadLettered,
      failed: batchItemFailures.length,
      writes: stats,
    },
  };
}

function verdictOf(outcome: Outcome): Verdict {
  const final = finalOutcome(outcome);
  switch (final.status) {
    case 'written':
    case 'stale':
      return OK;
    case 'retryable':
      return FAILED;
    case 'rejected':
      return { kind: 'reject', error: final.error };
  }
}

/**
 * One DEBUG line per write a version guard skipped, so "my update never showed up" has an answer:
 * the message, the table, a hash of the key, the version it carried, the stored version that won and
 * whether that was a tombstone. Keys may be personal data, so only their hash is logged (`keyHash`);
 * payloads never are.
 */
function logStaleWrites(
  logger: Pick<Logger, 'debug'>,
  outcomes: readonly Outcome[],
  requests: readonly WriteRequest[],
  recordOfRequest: (r: number) => SQSRecord,
): void {
  outcomes.forEach((outcome, r) => {
    if (outcome.status !== 'stale') return;
    const request = requests[r]!;
    logger.debug('stale write skipped', {
      messageId: recordOfRequest(r).messageId,
      table: request.target.tableName,
      keyHash: keyHash(request),
      incomingVersion: outcome.incomingVersion ?? request.version,
      storedVersion: outcome.storedVersion,
      storedDeleted: outcome.storedDeleted === true,
    });
  });
}

/**
 * The first 12 hex digits of SHA-256 over `JSON.stringify([table, partitionKeyValue, sortKeyValue])`
 * (no sort key value without a sort key): an item's identity in logs without its key. Anyone with
 * the key computes the same hash to find its lines.
 */
function keyHash(request: WriteRequest): string {
  const { tableName, partitionKey, sortKey } = request.target;
  const source = request.op === 'put' ? request.item : request.key;
  const parts = [tableName, source[partitionKey], ...(sortKey === undefined ? [] : [source[sortKey]])];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}

/** FIFO ordering: once a message of a group fails, every later message of that group fails too. */
function holdBackAfterFailures(records: readonly SQSRecord[], verdicts: Verdict[]): void {
  const failedGroups = new Set<string>();
  records.forEach((record, i) => {
    const group = fifoGroupOf(record);
    if (group === undefined) return;
    if (failedGroups.has(group)) verdicts[i] = FAILED;
    else if (verdicts[i]!.kind === 'failed') failedGroups.add(group);
  });
}

/**
 * The record's FIFO message group: it orders messages and scopes coalescing. Undefined on a standard
 * queue, where a MessageGroupId is a fair-queue tenant that orders nothing (Lambda hands it over all
 * the same): its messages coalesce and fail independently, like any standard-queue message.
 */
function fifoGroupOf(record: SQSRecord): string | undefined {
  return record.eventSourceARN.endsWith('.fifo') ? record.attributes.MessageGroupId : undefined;
}

async function sendRejects(
  records: readonly SQSRecord[],
  verdicts: Verdict[],
  sink: DeadLetterSink,
): Promise<Record<string, number>> {
  const letters: DeadLetter[] = [];
  const indexes: number[] = [];
  verdicts.forEach((verdict, i) => {
    if (verdict.kind !== 'reject') return;
    const record = records[i]!;
    letters.push({
      messageId: record.messageId,
      body: record.body,
      errorCode: verdict.error.code ?? 'UNKNOWN',
      errorMessage: verdict.error.message,
      messageGroupId: record.attributes.MessageGroupId,
    });
    indexes.push(i);
  });
  const counts: Record<string, number> = {};
  if (letters.length === 0) return counts;
  const accepted = await sink.send(letters);
  indexes.forEach((i, n) => {
    if (accepted[n]) {
      const code = letters[n]!.errorCode;
      counts[code] = (counts[code] ?? 0) + 1;
      verdicts[i] = DEAD_LETTERED;
    } else {
      verdicts[i] = FAILED;
    }
  });
  return counts;
}
