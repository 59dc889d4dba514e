import { randomUUID } from 'node:crypto';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTable, deleteTable } from '../../../shared/local/resources/write-path.ts';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../../support/fault-proxy.ts';

const tableName = `fault-proxy-${randomUUID().slice(0, 8)}`;
const direct = new DynamoDBClient({});
let proxy: FaultProxy;
let client: DynamoDBClient;

function puts(count: number): WriteRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    PutRequest: { Item: { pk: { S: `p${i}` }, sk: { S: '1' } } },
  }));
}

beforeAll(async () => {
  await createTable(direct, { tableName, partitionKey: 'pk', sortKey: 'sk' });
});
afterAll(async () => {
  await deleteTable(direct, tableName);
});
afterEach(async () => {
  await proxy.close();
});

async function proxied(rules: readonly FaultRule[]): Promise<void> {
  proxy = await startFaultProxy({ target: inject('localAws').dynamodb, rules, seed: 7 });
  // maxAttempts 1: every injected fault reaches the test instead of being retried away.
  client = new DynamoDBClient({ endpoint: proxy.url, maxAttempts: 1 });
}

describe('fault proxy', () => {
  it('forwards requests untouched when no rule fires', async () => {
    // Prepare
    await proxied([]);
    // Act
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'plain' }, sk: { S: '1' } } }),
    );
    // Assess
    const { Item } = await direct.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'plain' }, sk: { S: '1' } } }),
    );
    expect(Item).toBeDefined();
    expect(proxy.stats).toMatchObject({ requests: 1, forwarded: 1 });
  });

  it('returns the writes it held back as UnprocessedItems and writes the rest', async () => {
    // Prepare
    await proxied([{ kind: 'unprocessed', fraction: 0.5 }]);
    const requests = puts(25);
    // Act
    const output = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
    // Assess
    const unprocessed = output.UnprocessedItems?.[tableName] ?? [];
    const written = await Promise.all(
      requests.map(async (request) => {
        const key = { pk: request.PutRequest!.Item!.pk!, sk: request.PutRequest!.Item!.sk! };
        return (await direct.send(new GetItemCommand({ TableName: tableName, Key: key }))).Item !== undefined;
      }),
    );
    expect(unprocessed.length).toBe(proxy.stats.unprocessedItems);
    expect(unprocessed.length).toBeGreaterThan(0);
    expect(unprocessed.length).toBeLessThan(25);
    expect(written.filter(Boolean).length).toBe(25 - unprocessed.length);
  });

  it('answers ProvisionedThroughputExceededException when throttling', async () => {
    // Prepare
    await proxied([{ kind: 'throttle', rate: 1, operations: ['BatchWriteItem'] }]);
    // Act
    const sending = client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: puts(2) } }));
    // Assess
    await expect(sending).rejects.toThrow(ProvisionedThroughputExceededException);
    expect(proxy.stats).toMatchObject({ throttled: 1, forwarded: 0 });
  });

  it('answers ThrottlingException when asked for it', async () => {
    // Prepare
    await proxied([{ kind: 'throttle', rate: 1, error: 'ThrottlingException' }]);
    // Act
    const sending = client.send(
      new PutItemCommand({ TableName: tableName, Item: puts(1)[0]!.PutRequest!.Item! }),
    );
    // Assess
    await expect(sending).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('answers 500 InternalServerError', async () => {
    // Prepare
    await proxied([{ kind: 'internal-error', rate: 1 }]);
    // Act
    const sending = client.send(
      new PutItemCommand({ TableName: tableName, Item: puts(1)[0]!.PutRequest!.Item! }),
    );
    // Assess
    await expect(sending).rejects.toThrow(InternalServerError);
    expect(proxy.stats.internalErrors).toBe(1);
  });

  it('resets the connection', async () => {
    // Prepare
    await proxied([{ kind: 'reset', rate: 1 }]);
    // Act
    const sending = client.send(
      new PutItemCommand({ TableName: tableName, Item: puts(1)[0]!.PutRequest!.Item! }),
    );
    // Assess
    await expect(sending).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(proxy.stats.resets).toBe(1);
  });

  it('leaves operations outside a rule alone', async () => {
    // Prepare
    await proxied([{ kind: 'internal-error', rate: 1, operations: ['BatchWriteItem'] }]);
    // Act
    const sending = client.send(
      new PutItemCommand({ TableName: tableName, Item: puts(1)[0]!.PutRequest!.Item! }),
    );
    // Assess
    await expect(sending).resolves.toBeDefined();
  });

  it('fires a rule for about its rate of requests, the same ones for the same seed', async () => {
    // Prepare
    const run = async () => {
      await proxied([{ kind: 'internal-error', rate: 0.3 }]);
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        const put = new PutItemCommand({ TableName: tableName, Item: puts(1)[0]!.PutRequest!.Item! });
        outcomes.push(
          await client.send(put).then(
            () => true,
            () => false,
          ),
        );
      }
      await proxy.close();
      return outcomes;
    };
    // Act
    const first = await run();
    const second = await run();
    // Assess
    const failures = first.filter((ok) => !ok).length;
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(40);
    expect(second).toEqual(first);
  });

  it('fires an `every` rule on exactly each k-th request it is considered for, counted per rule', async () => {
    // Prepare: the reset rule sees every request; the 500 rule sees only those the reset let through.
    await proxied([
      { kind: 'reset', every: 4 },
      { kind: 'internal-error', every: 2 },
    ]);
    const outcomes: string[] = [];
    // Act
    for (let i = 0; i < 8; i++) {
      const put = new PutItemCommand({ TableName: tableName, Item: puts(1)[0]!.PutRequest!.Item! });
      outcomes.push(
        await client.send(put).then(
          () => 'ok',
          (error: { code?: string; name?: string }) =>
            error.code === 'ECONNRESET' ? 'reset' : (error.name ?? '?'),
        ),
      );
    }
    // Assess
    expect(outcomes).toEqual([
      'ok',
      'InternalServerError',
      'ok',
      'reset',
      'InternalServerError',
      'ok',
      'InternalServerError',
      'reset',
    ]);
    expect(proxy.stats).toMatchObject({ resets: 2, internalErrors: 3 });
  });
});
