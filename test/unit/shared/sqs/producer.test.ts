import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { UnknownTableError } from '../../../../shared/contract/errors.ts';
import { localClientConfig } from '../../../../shared/local/aws/client-config.ts';
import {
  InvalidMessageError,
  InvalidOptionError,
  MissingGroupIdError,
  messageEntry,
  PipelineProducer,
  SenderClosedError,
  SqsBatchSender,
} from '../../../../shared/sqs/producer.ts';

// Nothing listens on port 9: any request that escaped local validation would fail, and be counted.
const unreachable = () =>
  new SQSClient({ ...localClientConfig('http://127.0.0.1:9', 'us-east-1'), maxAttempts: 1 });
const queueUrl = 'http://127.0.0.1:9/123456789012/ingest';
const routes = { items: { tableName: 'items-table', partitionKey: 'pk', sortKey: 'sk' } };

const open: PipelineProducer[] = [];
function producer(options: { fifo?: boolean; routes?: typeof routes } = {}): PipelineProducer {
  const created = new PipelineProducer({
    queueUrl: options.fifo ? `${queueUrl}.fifo` : queueUrl,
    client: unreachable(),
    routes: options.routes,
  });
  open.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

describe('PipelineProducer', () => {
  it('rejects a message the batch writer would refuse, sending nothing', async () => {
    // Prepare
    const p = producer();
    // Act
    const sent = p.put({ pk: 'a', sk: '1' }, { version: 1.5 });
    // Assess
    await expect(sent).rejects.toThrow(InvalidMessageError);
    await expect(sent).rejects.toMatchObject({ code: 'INVALID_VERSION', path: 'version' });
    expect(p.stats).toMatchObject({
      requests: 0,
      sent: 0,
      failed: 1,
      failedByReason: { INVALID_VERSION: 1 },
    });
  });

  it('rejects an unknown field the strict contract does not allow', async () => {
    const p = producer();
    const sent = p.sendMessage({ op: 'put', item: { pk: 'a' }, extra: true } as never);
    await expect(sent).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(p.stats.requests).toBe(0);
  });

  it('checks the routes when it is given them, as the batch writer would', async () => {
    const p = producer({ routes });
    await expect(p.put({ pk: 'a', sk: '1' }, { table: 'orders' })).rejects.toThrow(UnknownTableError);
    await expect(p.delete({ pk: 'a' })).rejects.toMatchObject({ code: 'INVALID_KEY', path: 'key.sk' });
    await expect(p.put({ pk: 'a', sk: '1', _version: 3 })).rejects.toMatchObject({
      code: 'RESERVED_ATTRIBUTE',
    });
    expect(p.stats).toMatchObject({ requests: 0, failed: 3 });
  });

  it('requires a message group id on a FIFO queue', async () => {
    const p = producer({ fifo: true });
    await expect(p.put({ pk: 'a', sk: '1' })).rejects.toThrow(MissingGroupIdError);
    expect(p.stats).toMatchObject({ requests: 0, failedByReason: { MISSING_GROUP_ID: 1 } });
  });

  it('refuses to send after close', async () => {
    // Prepare
    const p = producer();
    await p.close();
    // Act
    const sent = p.put({ pk: 'a', sk: '1' });
    // Assess
    await expect(sent).rejects.toThrow(SenderClosedError);
  });
});

describe('messageEntry', () => {
  it('serialises the validated message and carries the FIFO ids', () => {
    // Act
    const entry = messageEntry(
      { op: 'delete', table: 'items', key: { pk: 'a', sk: '1' }, version: 4 },
      { groupId: 'g1', dedupId: 'd1' },
    );
    // Assess
    expect(JSON.parse(entry.body)).toEqual({
      op: 'delete',
      table: 'items',
      key: { pk: 'a', sk: '1' },
      version: 4,
    });
    expect(entry).toMatchObject({ messageGroupId: 'g1', messageDeduplicationId: 'd1' });
  });

  it('leaves out optional fields that were not given', () => {
    const entry = messageEntry({ op: 'put', table: undefined, item: { pk: 'a' }, version: undefined });
    expect(entry.body).toBe('{"op":"put","item":{"pk":"a"}}');
  });

  it('refuses an item that cannot be serialised', () => {
    expect(() => messageEntry({ op: 'put', item: { pk: 'a', n: 1n } })).toThrow(InvalidMessageError);
  });
});

describe('SqsBatchSender options', () => {
  it.each([
    [{ maxInFlight: 0 }, 'maxInFlight', 0, 'an integer ≥ 1'],
    [{ maxBuffered: 1.5 }, 'maxBuffered', 1.5, 'an integer ≥ 1'],
    [{ maxBatchEntries: 11 }, 'maxBatchEntries', 11, 'an integer from 1 to 10'],
    [{ maxDelayMs: -1 }, 'maxDelayMs', -1, 'an integer ≥ 0'],
    [{ maxMessageBytes: 2_000_000 }, 'maxMessageBytes', 2_000_000, 'an integer from 1 to 1048576'],
  ])(
    'refuses %o with an InvalidOptionError naming the option and the rule',
    (options, option, value, rule) => {
      // Act
      const create = () => new SqsBatchSender({ queueUrl, client: unreachable(), ...options });
      // Assess
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', owner: 'SqsBatchSender', option, value, rule }),
      );
      expect(create).toThrow(`SqsBatchSender option ${option}: got ${value}; use ${rule}`);
    },
  );

  it('refuses a missing queue URL', () => {
    // Act
    const create = () => new SqsBatchSender({ queueUrl: '', client: unreachable() });
    // Assess
    expect(create).toThrow("SqsBatchSender option queueUrl: got ''; use a queue URL");
  });
});

describe('PipelineProducer options', () => {
  it('names itself and the path into routes when the routing map is invalid', () => {
    // Act
    const create = () =>
      new PipelineProducer({
        queueUrl,
        client: unreachable(),
        routes: { orders: { tableName: '', partitionKey: 'pk' } },
      });
    // Assess
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(
      expect.objectContaining({ owner: 'PipelineProducer', option: 'routes.orders.tableName', value: '' }),
    );
  });

  it('names itself for a sender option too', () => {
    // Act
    const create = () => new PipelineProducer({ queueUrl, client: unreachable(), maxInFlight: 0 });
    // Assess
    expect(create).toThrow('PipelineProducer option maxInFlight: got 0; use an integer ≥ 1');
  });
});
