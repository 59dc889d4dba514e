import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { processIngestBatch } from '../../../../functions/batch-writer/core.ts';
import type { DeadLetter, DeadLetterSink } from '../../../../shared/pipeline/dead-letter.ts';
import { Router } from '../../../../shared/pipeline/routing.ts';
import { WriteBatcher } from '../../../../shared/write-batcher/write-batcher.ts';
import { sqsRecord } from '../../../support/factories/sqs.ts';
import { deleteMessage, itemsRoutes, itemsTarget, putMessage } from '../../../support/factories/writes.ts';
import { awsError, InMemoryDynamoDb } from '../../../support/fakes/in-memory-dynamodb.ts';

class RecordingSink implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  accept = true;
  async send(letters: readonly DeadLetter[]): Promise<boolean[]> {
    if (this.accept) this.letters.push(...letters);
    return letters.map(() => this.accept);
  }
}

/** A record from a FIFO queue (its event source ARN ends in `.fifo`), in message group `groupId`. */
function fifoRecord(body: unknown, groupId: string): SQSRecord {
  const record = sqsRecord(body, { groupId });
  return { ...record, eventSourceARN: `${record.eventSourceARN}.fifo` };
}

function setup() {
  const db = new InMemoryDynamoDb();
  const deadLetters = new RecordingSink();
  const deps = {
    router: new Router(itemsRoutes),
    batcher: new WriteBatcher({ client: db.client, baseDelayMs: 1, maxDelayMs: 2 }),
    deadLetters,
    deadline: { at: Date.now() + 5_000 },
  };
  return { db, deadLetters, deps };
}

describe('processIngestBatch', () => {
  it('writes valid messages and reports no failures', async () => {
    // Prepare
    const { db, deps } = setup();
    const records = [sqsRecord(putMessage('a', { n: 1 })), sqsRecord(putMessage('b'))];
    // Act
    const result = await processIngestBatch(records, deps);
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary.succeeded).toBe(2);
    expect(db.item(itemsTarget.tableName, 'a')).toMatchObject({ n: 1 });
  });

  it('sends permanent rejects to the DLQ with their error code and counts them as handled', async () => {
    const { deadLetters, deps } = setup();
    const records = [
      sqsRecord('not json'),
      sqsRecord({ ...putMessage('a'), table: 'nope' }),
      sqsRecord(putMessage('b')),
    ];
    const result = await processIngestBatch(records, deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(deadLetters.letters.map((l) => [l.messageId, l.errorCode])).toEqual([
      [records[0]!.messageId, 'INVALID_JSON'],
      [records[1]!.messageId, 'UNKNOWN_TABLE'],
    ]);
    expect(deadLetters.letters[0]!.body).toBe('not json');
  });

  it('dead-letters writes to a table its role may not write with ACCESS_DENIED instead of retrying them', async () => {
    // Prepare
    const { db, deadLetters, deps } = setup();
    const orders = { ...itemsRoutes.items!, tableName: 'orders-physical' };
    const router = new Router({ ...itemsRoutes, orders });
    db.fault = (command) =>
      JSON.stringify(command.input).includes('orders-physical')
        ? awsError('AccessDeniedException')
        : undefined;
    const records = [sqsRecord(putMessage('a')), sqsRecord({ ...putMessage('b'), table: 'orders' })];
    // Act
    const result = await processIngestBatch(records, { ...deps, router });
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary.deadLettered).toEqual({ ACCESS_DENIED: 1 });
    expect(deadLetters.letters.map((l) => [l.messageId, l.errorCode])).toEqual([
      [records[1]!.messageId, 'ACCESS_DENIED'],
    ]);
    expect(deadLetters.letters[0]!.errorMessage).toMatch(/orders-physical/);
    expect(db.item(itemsTarget.tableName, 'a')).toBeDefined();
  });

  it('reports a reject as a failure when the DLQ send fails, so it is never lost', async () => {
    const { deadLetters, deps } = setup();
    deadLetters.accept = false;
    const records = [sqsRecord('{')];
    const result = await processIngestBatch(records, deps);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.messageId }]);
  });

  it('reports only the messages whose writes stayed unprocessed at the deadline', async () => {
    const { db, deps } = setup();
    db.fault = (command) =>
      JSON.stringify(command.input).includes('"S":"b"') ? awsError('ThrottlingException') : undefined;
    const records = [sqsRecord(putMessage('a', { n: 1 }, 1)), sqsRecord(putMessage('b', { n: 1 }, 1))];
    const result = await processIngestBatch(records, { ...deps, deadline: { at: Date.now() + 30 } });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.messageId }]);
  });

  it('fails every later message of a FIFO group after the first failure, leaving other groups alone', async () => {
    const { db, deps } = setup();
    db.fault = (command) =>
      JSON.stringify(command.input).includes('"S":"bad"') ? awsError('ThrottlingException') : undefined;
    const records = [
      fifoRecord(putMessage('x'), 'g1'),
      fifoRecord(putMessage('bad', {}, 1), 'g1'),
      fifoRecord(putMessage('y'), 'g1'),
      fifoRecord('invalid', 'g1'),
      fifoRecord(putMessage('z'), 'g2'),
    ];
    const result = await processIngestBatch(records, { ...deps, deadline: { at: Date.now() + 30 } });
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      records[1]!.messageId,
      records[2]!.messageId,
      records[3]!.messageId,
    ]);
  });

  it('fails only the failing message of a fair-queue tenant on a standard queue (no group order to keep)', async () => {
    // Prepare: a standard queue's records carry MessageGroupId too when producers tag tenants.
    const { db, deadLetters, deps } = setup();
    db.fault = (command) =>
      JSON.stringify(command.input).includes('"S":"bad"') ? awsError('ThrottlingException') : undefined;
    const records = [
      sqsRecord(putMessage('x'), { groupId: 'tenant-1' }),
      sqsRecord(putMessage('bad', {}, 1), { groupId: 'tenant-1' }),
      sqsRecord(putMessage('y'), { groupId: 'tenant-1' }),
      sqsRecord('invalid', { groupId: 'tenant-1' }),
    ];
    // Act
    const result = await processIngestBatch(records, { ...deps, deadline: { at: Date.now() + 30 } });
    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.messageId }]);
    expect(db.item(itemsTarget.tableName, 'y')).toBeDefined();
    expect(deadLetters.letters.map((l) => [l.messageId, l.messageGroupId])).toEqual([
      [records[3]!.messageId, 'tenant-1'],
    ]);
  });

  it('coalesces writes to one item across tenants on a standard queue, the last one winning', async () => {
    // Prepare
    const { db, deps } = setup();
    const records = [
      sqsRecord(putMessage('a', { n: 1 }), { groupId: 'tenant-1' }),
      sqsRecord(putMessage('a', { n: 2 }), { groupId: 'tenant-2' }),
      sqsRecord(putMessage('a', { n: 3 }), { groupId: 'tenant-1' }),
    ];
    // Act
    const result = await processIngestBatch(records, deps);
    // Assess: one write, in arrival order, as if the messages carried no tenant.
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary.writes).toMatchObject({ coalesced: 2, written: 1 });
    expect(db.item(itemsTarget.tableName, 'a')).toMatchObject({ n: 3 });
  });

  it('coalesces only within a message group on a FIFO queue', async () => {
    const { deps } = setup();
    const records = [
      fifoRecord(putMessage('a', { n: 1 }), 'g1'),
      fifoRecord(putMessage('a', { n: 2 }), 'g2'),
      fifoRecord(putMessage('a', { n: 3 }), 'g1'),
    ];
    const result = await processIngestBatch(records, deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary.writes).toMatchObject({ coalesced: 1, written: 2 });
  });

  it('treats stale and coalesced messages as success', async () => {
    const { deps } = setup();
    await processIngestBatch([sqsRecord(putMessage('a', {}, 5))], deps);
    const records = [
      sqsRecord(putMessage('a', {}, 4)),
      sqsRecord(putMessage('c', { n: 1 })),
      sqsRecord(putMessage('c', { n: 2 })),
    ];
    const result = await processIngestBatch(records, deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary.writes).toMatchObject({ stale: 1, coalesced: 1, written: 1 });
  });

  describe('stale writes', () => {
    /** A logger that keeps what it is given at DEBUG, as the Powertools Logger would print it. */
    function recordingLogger() {
      const lines: Record<string, unknown>[] = [];
      const debug: Logger['debug'] = (message, ...extra) => {
        lines.push({ message, ...(extra[0] as object) });
      };
      return { lines, debug };
    }
    const hashOf = (parts: unknown[]) =>
      createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);

    it('logs one DEBUG line per stale write: message id, table, key hash and versions, no key or payload', async () => {
      // Prepare: a stored version 5 of a, a tombstone at version 8 of b
      const { deps } = setup();
      await processIngestBatch(
        [sqsRecord(putMessage('a', { n: 5 }, 5)), sqsRecord(deleteMessage('b', 8))],
        deps,
      );
      const logger = recordingLogger();
      const records = [
        sqsRecord(putMessage('a', { secret: 'payload-a' }, 4)),
        sqsRecord(putMessage('b', { secret: 'payload-b' }, 8)),
        sqsRecord(putMessage('c', { n: 1 }, 1)),
      ];
      // Act
      const result = await processIngestBatch(records, { ...deps, logger });
      // Assess
      expect(result.batchItemFailures).toEqual([]);
      expect(logger.lines).toEqual([
        {
          message: 'stale write skipped',
          messageId: records[0]!.messageId,
          table: itemsTarget.tableName,
          keyHash: hashOf([itemsTarget.tableName, 'a', '1']),
          incomingVersion: 4,
          storedVersion: 5,
          storedDeleted: false,
        },
        {
          message: 'stale write skipped',
          messageId: records[1]!.messageId,
          table: itemsTarget.tableName,
          keyHash: hashOf([itemsTarget.tableName, 'b', '1']),
          incomingVersion: 8,
          storedVersion: 8,
          storedDeleted: true,
        },
      ]);
      expect(JSON.stringify(logger.lines)).not.toMatch(/payload|"a"|"b"/);
    });

    it('logs nothing when no write is stale', async () => {
      const { deps } = setup();
      const logger = recordingLogger();
      await processIngestBatch([sqsRecord(putMessage('a', {}, 1)), sqsRecord(putMessage('b'))], {
        ...deps,
        logger,
      });
      expect(logger.lines).toEqual([]);
    });
  });
});
