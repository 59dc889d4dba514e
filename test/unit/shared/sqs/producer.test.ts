import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { UnknownTableError } from '../../../../shared/contract/errors.ts';
import { localClientConfig } from '../../../../shared/local/aws/client-config.ts';
import {
  InvalidMessageError,
  InvalidOptionError,
  InvalidTenantError,
  MissingGroupIdError,
  messageEntry,
  PipelineProducer,
  SenderClosedError,
  SqsBatchSender,
  type TenantOption,
} from '../../../../shared/sqs/producer.ts';

// Nothing listens on port 9: any request that escaped local validation would fail, and be counted.
const unreachable = () =>
  new SQSClient({ ...localClientConfig('http://127.0.0.1:9', 'us-east-1'), maxAttempts: 1 });
const queueUrl = 'http://127.0.0.1:9/123456789012/ingest';
const routes = { items: { tableName: 'items-table', partitionKey: 'pk', sortKey: 'sk' } };

const open: PipelineProducer[] = [];
function producer(
  options: { fifo?: boolean; routes?: typeof routes; tenant?: TenantOption } = {},
): PipelineProducer {
  const created = new PipelineProducer({
    queueUrl: options.fifo ? `${queueUrl}.fifo` : queueUrl,
    client: unreachable(),
    routes: options.routes,
    tenant: options.tenant,
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

describe('PipelineProducer tenants (SQS fair queues)', () => {
  it('tags every message with the tenant option as its MessageGroupId, a per-message tenant winning', () => {
    // Prepare
    const p = producer({ tenant: 'acme' });
    // Act
    const entries = [
      p.toEntry({ op: 'put', item: { pk: 'a', sk: '1' } }),
      p.toEntry({ op: 'delete', key: { pk: 'a', sk: '1' } }, { tenant: 'globex' }),
    ];
    // Assess: a tenant, no FIFO ids.
    expect(entries.map((e) => e.messageGroupId)).toEqual(['acme', 'globex']);
    expect(entries.map((e) => e.messageDeduplicationId)).toEqual([undefined, undefined]);
  });

  it('takes the tenant from a function of the validated message, undefined meaning none', () => {
    const p = producer({
      tenant: (m) => (m.op === 'put' ? (m.item.tenant as string | undefined) : undefined),
    });
    expect(p.toEntry({ op: 'put', item: { pk: 'a', tenant: 't-1' } }).messageGroupId).toBe('t-1');
    expect(p.toEntry({ op: 'put', item: { pk: 'b' } }).messageGroupId).toBeUndefined();
    expect(p.toEntry({ op: 'delete', key: { pk: 'b' } }).messageGroupId).toBeUndefined();
  });

  it('refuses only the message whose tenant SQS would refuse, naming the value and the message', async () => {
    // Prepare
    const p = producer({ tenant: (m) => (m.op === 'put' ? String(m.item.tenant) : undefined) });
    // Act
    const bad = p.put({ pk: 'user#1', sk: 'profile', tenant: 'acme corp' });
    const tooLong = p.put({ pk: 'user#2', sk: 'profile', tenant: 'x'.repeat(129) });
    const good = p.toEntry({ op: 'put', item: { pk: 'user#3', sk: 'profile', tenant: 'acme' } });
    // Assess
    await expect(bad).rejects.toThrow(InvalidTenantError);
    await expect(bad).rejects.toMatchObject({ code: 'INVALID_TENANT', tenant: 'acme corp' });
    await expect(bad).rejects.toThrow(
      'tenant "acme corp" of put items {"pk":"user#1","sk":"profile"}: character U+0020 at index 4 is not allowed',
    );
    await expect(tooLong).rejects.toThrow('is 129 characters long; SQS allows 1 to 128');
    expect(good.messageGroupId).toBe('acme');
    expect(p.stats).toMatchObject({ requests: 0, failed: 2, failedByReason: { INVALID_TENANT: 2 } });
  });

  it('reports a tenant function that throws or returns a non-string as that message’s InvalidTenantError', () => {
    const thrower = producer({
      tenant: () => {
        throw new Error('no tenant table');
      },
    });
    const numeric = producer({ tenant: (() => 7) as unknown as TenantOption });
    const put = { op: 'put', item: { pk: 'a' } } as const;
    expect(() => thrower.toEntry(put)).toThrow(
      'tenant of put items {"pk":"a"}: the tenant function threw: no tenant table',
    );
    expect(() => numeric.toEntry(put)).toThrow(
      'tenant 7 of put items {"pk":"a"}: must be a string, got a number',
    );
  });

  it('validates the message before asking the tenant function, so the contract error wins', () => {
    const p = producer({ tenant: () => 'bad tenant' });
    expect(() => p.toEntry({ op: 'put', item: { pk: 'a' }, version: -1 })).toThrow(InvalidMessageError);
  });

  it('refuses a tenant and a groupId on one message: both would be its MessageGroupId', () => {
    const p = producer({ tenant: 'acme' });
    expect(() => p.toEntry({ op: 'put', item: { pk: 'a' } }, { groupId: 'g1' })).toThrow(
      'both would be its MessageGroupId; give one',
    );
    // Without a tenant, a groupId on a standard queue is sent as it is (as before tenants existed).
    expect(producer().toEntry({ op: 'put', item: { pk: 'a' } }, { groupId: 'g1' }).messageGroupId).toBe('g1');
  });

  it('refuses tenants on a FIFO queue, whose MessageGroupId is the ordering group', async () => {
    // Act
    const create = () =>
      new PipelineProducer({ queueUrl: `${queueUrl}.fifo`, client: unreachable(), tenant: 'acme' });
    const perMessage = producer({ fifo: true }).put({ pk: 'a' }, { groupId: 'g', tenant: 'acme' });
    // Assess
    expect(create).toThrow(InvalidOptionError);
    expect(create).toThrow(expect.objectContaining({ option: 'tenant', value: 'acme' }));
    expect(create).toThrow(/no tenant for the FIFO queue .*ordering group/);
    await expect(perMessage).rejects.toThrow(/a FIFO queue has no tenants/);
  });

  it.each([
    ['acme corp', 'acme corp'],
    ['', ''],
    [42, 42],
  ])('refuses the tenant option %j with an InvalidOptionError', (tenant, value) => {
    const create = () =>
      new PipelineProducer({ queueUrl, client: unreachable(), tenant: tenant as TenantOption });
    expect(create).toThrow(expect.objectContaining({ owner: 'PipelineProducer', option: 'tenant', value }));
    expect(create).toThrow(/use a tenant id \(1 to 128 letters, digits and ASCII punctuation\)/);
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
