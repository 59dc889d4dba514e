import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  type ChangeMessageVisibilityBatchCommandInput,
  QueueDoesNotExist,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalResourceError } from '../../../../../shared/local/errors.ts';
import {
  InFlightJournal,
  type InFlightMessage,
} from '../../../../../shared/local/lambda/in-flight-journal.ts';

type Failure = { readonly Id: string; readonly Code: string; readonly SenderFault: boolean };

/** An SQS client that answers ChangeMessageVisibilityBatch, failing the receipt handles `fail` names. */
function stubSqs(fail: (receiptHandle: string) => string | undefined = () => undefined) {
  const calls: ChangeMessageVisibilityBatchCommandInput[] = [];
  let missingQueue: string | undefined;
  const client = {
    async send(command: unknown) {
      if (!(command instanceof ChangeMessageVisibilityBatchCommand)) throw new Error('unexpected command');
      const input = command.input;
      calls.push(input);
      if (input.QueueUrl === missingQueue)
        throw new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} });
      const Successful: { Id: string }[] = [];
      const Failed: Failure[] = [];
      for (const entry of input.Entries ?? []) {
        const code = fail(entry.ReceiptHandle ?? '');
        if (code) Failed.push({ Id: entry.Id!, Code: code, SenderFault: true });
        else Successful.push({ Id: entry.Id! });
      }
      return { Successful, Failed };
    },
  };
  return {
    sqs: client as unknown as SQSClient,
    calls,
    missing(url: string) {
      missingQueue = url;
    },
  };
}

function messages(queueUrl: string, count: number, prefix = 'm'): InFlightMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    queueUrl,
    receiptHandle: `rh-${prefix}${i}`,
    messageId: `${prefix}${i}`,
  }));
}

const QUEUE = 'http://127.0.0.1:4001/123456789012/ingest';
const OTHER = 'http://127.0.0.1:4001/123456789012/changes.fifo';

describe('InFlightJournal', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'in-flight-'));
    path = join(dir, 'state', 'in-flight.jsonl');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports as orphans the messages received and never settled, also to a later process', () => {
    // Prepare
    const journal = new InFlightJournal(path);
    journal.received(messages(QUEUE, 3));
    journal.settled(['m1']);
    // Act: a new instance reads what the killed one wrote.
    const orphans = new InFlightJournal(path).orphans();
    // Assess
    expect(orphans.map((m) => m.messageId)).toEqual(['m0', 'm2']);
    expect(orphans[0]).toEqual({ queueUrl: QUEUE, receiptHandle: 'rh-m0', messageId: 'm0' });
  });

  it('writes one JSON line per record as it goes', () => {
    // Act
    const journal = new InFlightJournal(path);
    journal.received(messages(QUEUE, 2));
    journal.settled(['m0']);
    // Assess
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { type: 'received', queueUrl: QUEUE, receiptHandle: 'rh-m0', messageId: 'm0' },
      { type: 'received', queueUrl: QUEUE, receiptHandle: 'rh-m1', messageId: 'm1' },
      { type: 'settled', messageId: 'm0' },
    ]);
  });

  it('skips a last line that a crash cut short', () => {
    // Prepare
    new InFlightJournal(path).received(messages(QUEUE, 1));
    appendFileSync(path, '{"type":"received","queueUrl":"http://x/1/q","recei');
    // Act
    const orphans = new InFlightJournal(path).orphans();
    // Assess
    expect(orphans.map((m) => m.messageId)).toEqual(['m0']);
  });

  it('makes every orphan visible again, ten per call and queue by queue, then empties the journal', async () => {
    // Prepare
    const previous = new InFlightJournal(path);
    previous.received([...messages(QUEUE, 23), ...messages(OTHER, 2, 'f')]);
    previous.settled(['m5']);
    const { sqs, calls } = stubSqs();
    // Act
    const released = await new InFlightJournal(path).releaseOrphans(sqs);
    // Assess
    expect(released).toBe(24);
    expect(calls.map((c) => [c.QueueUrl, c.Entries?.length])).toEqual([
      [QUEUE, 10],
      [QUEUE, 10],
      [QUEUE, 2],
      [OTHER, 2],
    ]);
    expect(calls.flatMap((c) => c.Entries ?? []).every((e) => e.VisibilityTimeout === 0)).toBe(true);
    expect(calls.flatMap((c) => c.Entries ?? []).map((e) => e.ReceiptHandle)).not.toContain('rh-m5');
    expect(new InFlightJournal(path).orphans()).toEqual([]);
  });

  it('sends the releases to the origin it is given, keeping the queue path', async () => {
    // Prepare
    new InFlightJournal(path).received(messages(QUEUE, 1));
    const { sqs, calls } = stubSqs();
    // Act
    await new InFlightJournal(path).releaseOrphans(sqs, { origin: 'http://127.0.0.1:5999' });
    // Assess
    expect(calls[0]?.QueueUrl).toBe('http://127.0.0.1:5999/123456789012/ingest');
  });

  it('skips messages already deleted (invalid receipt handle) and queues that no longer exist', async () => {
    // Prepare
    new InFlightJournal(path).received([...messages(QUEUE, 3), ...messages(OTHER, 1, 'f')]);
    const { sqs, missing } = stubSqs((handle) => (handle === 'rh-m1' ? 'ReceiptHandleIsInvalid' : undefined));
    missing(OTHER);
    // Act
    const released = await new InFlightJournal(path).releaseOrphans(sqs);
    // Assess
    expect(released).toBe(2);
    expect(new InFlightJournal(path).orphans()).toEqual([]);
  });

  it('keeps the journal and names the message when SQS refuses a release for another reason', async () => {
    // Prepare
    new InFlightJournal(path).received(messages(QUEUE, 2));
    const { sqs } = stubSqs((handle) => (handle === 'rh-m1' ? 'AccessDenied' : undefined));
    // Act
    const error: unknown = await new InFlightJournal(path).releaseOrphans(sqs).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(LocalResourceError);
    expect((error as Error).message).toMatch(/message m1 .*AccessDenied/);
    expect(new InFlightJournal(path).orphans()).toHaveLength(2);
  });

  it('has nothing to release when no journal was written', async () => {
    // Prepare
    const { sqs, calls } = stubSqs();
    // Act
    const released = await new InFlightJournal(path).releaseOrphans(sqs);
    // Assess
    expect(released).toBe(0);
    expect(calls).toEqual([]);
  });
});
