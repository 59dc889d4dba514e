import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { PipelineError } from '../../shared/core/errors.ts';
import type { DeadLetter, DeadLetterSink } from '../../shared/pipeline/dead-letter.ts';
import { SNAPSHOT_PUBLISHER_METRICS } from '../../shared/pipeline/metric-names.ts';
import type { Deadline, SnapshotPublisher } from '../../shared/snapshots/index.ts';
import { applyChange } from './changes.ts';
import { ChangeRejectedError } from './errors.ts';
import { type ConfigChange, parseChange } from './schema.ts';

export interface ConfigChangeDeps {
  readonly publisher: SnapshotPublisher;
  /** The snapshot the changes apply to. */
  readonly name: string;
  /**
   * Checks (and normalises) the document after each change; a change it rejects goes to the DLQ,
   * as does one that breaks the snapshot's JSON Schema (`pipeline snapshot schema set`).
   */
  readonly validate: (document: unknown) => unknown;
  /**
   * The document the first version starts from: the configuration the functions run with before
   * anything is published (their bootstrap), already valid. Without it the first change would
   * apply to an empty document and drop, e.g., the bootstrap `items` route.
   * @default none: the first change applies to an empty document
   */
  readonly bootstrap?: unknown;
  readonly deadLetters: DeadLetterSink;
  /** Recorded as the new version's source, e.g. `lambda:<function>`. */
  readonly source: string;
  readonly deadline?: Deadline;
  /** Publish attempts when racing another publisher. @default 5 */
  readonly maxAttempts?: number;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
}

interface Parsed {
  readonly record: SQSRecord;
  readonly change: ConfigChange;
}

/**
 * Applies one SQS batch of configuration changes to a copy of the current stable document (the
 * bootstrap document before the first version) and publishes ONE new version (none if nothing
 * changed). Malformed changes and changes the schema
 * rejects go to the DLQ with their reason while the others are published; on a publish conflict
 * the batch is rebased on the winner and re-applied. A change goes into a version or the DLQ, or is
 * reported as a batch item failure (so SQS delivers it again): never dropped.
 */
export async function processConfigChanges(
  records: readonly SQSRecord[],
  deps: ConfigChangeDeps,
): Promise<SQSBatchResponse> {
  const letters: DeadLetter[] = [];
  const parsed: Parsed[] = [];
  for (const record of records) {
    try {
      parsed.push({ record, change: parseChange(record.body) });
    } catch (error) {
      letters.push(deadLetter(record, error));
    }
  }

  const failures: SQSRecord[] = [];
  let rejected: DeadLetter[] = [];
  let applied = 0;
  if (parsed.length > 0) {
    try {
      // The name's JSON Schema (if set) is checked change by change too, so a change that breaks it
      // goes to the DLQ with its reason while the others are published.
      const schemaCheck = await deps.publisher.schemas.checkFor(deps.name);
      const result = await deps.publisher.update(
        deps.name,
        (current) => {
          rejected = [];
          const base = current === undefined ? deps.bootstrap : current.data;
          let document = base;
          for (const { record, change } of parsed) {
            try {
              const next = deps.validate(applyChange(document, change));
              schemaCheck?.(next);
              document = next;
            } catch (error) {
              rejected.push(deadLetter(record, rejection(error, change)));
            }
          }
          applied = parsed.length - rejected.length;
          const unchanged = applied === 0 || document === undefined || isDeepStrictEqual(document, base);
          return unchanged ? undefined : document;
        },
        { source: deps.source, deadline: deps.deadline, maxAttempts: deps.maxAttempts },
      );
      letters.push(...rejected);
      deps.metrics?.addMetric(SNAPSHOT_PUBLISHER_METRICS.ConfigChangesApplied, MetricUnit.Count, applied);
      if (result) deps.metrics?.addMetric(SNAPSHOT_PUBLISHER_METRICS.SnapshotsPublished, MetricUnit.Count, 1);
      deps.logger?.info(result ? 'published configuration' : 'configuration unchanged; nothing published', {
        snapshot: deps.name,
        version: result?.manifest.version,
        generation: result?.pointer.generation,
        applied,
        rejected: rejected.length,
      });
    } catch (error) {
      // Nothing was published: every parsed change is retried, including those rejected against a
      // base that may yet change.
      failures.push(...parsed.map((p) => p.record));
      deps.logger?.error('publishing the configuration failed; the batch will be retried', {
        snapshot: deps.name,
        changes: parsed.length,
        error,
      });
    }
  }

  if (letters.length > 0) {
    const accepted = await deps.deadLetters.send(letters);
    letters.forEach((letter, i) => {
      if (!accepted[i]) failures.push(records.find((r) => r.messageId === letter.messageId)!);
    });
    deps.metrics?.addMetric(
      SNAPSHOT_PUBLISHER_METRICS.ConfigChangesRejected,
      MetricUnit.Count,
      letters.length,
    );
    deps.logger?.warn('config changes sent to the DLQ', {
      rejected: letters.map((l) => ({ messageId: l.messageId, errorCode: l.errorCode })),
    });
  }
  return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
}

function rejection(error: unknown, change: ConfigChange): unknown {
  const what = change.op === 'replace' ? 'replacing the document' : `${change.op} ${change.path}`;
  return error instanceof PipelineError && error.code === 'INVALID_SNAPSHOT_DOCUMENT'
    ? new ChangeRejectedError(what, { cause: error })
    : error;
}

function deadLetter(record: SQSRecord, error: unknown): DeadLetter {
  const known = error instanceof PipelineError;
  return {
    messageId: record.messageId,
    body: record.body,
    errorCode: known ? error.code : 'INTERNAL',
    errorMessage: error instanceof Error ? error.message : String(error),
    messageGroupId: record.attributes.MessageGroupId,
  };
}
