import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.ts';
import { startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

// The batch writer reaches DynamoDB Local only through a real HTTP proxy that injects faults.
let proxy: FaultProxy;
let pipeline: WritePathHarness;

beforeAll(async () => {
  proxy = await startFaultProxy({ target: process.env.AWS_ENDPOINT_URL_DYNAMODB!, seed: 7 });
  pipeline = await startWritePath({ dynamodbEndpoint: proxy.url, timeoutMs: 8_000 });
});

afterAll(async () => {
  await pipeline.stop();
  await proxy.close();
});

describe('write path under injected faults', () => {
  it('ends with exactly the expected table, every message written or dead-lettered with a reason', async () => {
    // Prepare
    // The `every` rules make each fault kind happen within the first 7 requests, whatever the
    // timing (the 340 distinct keys alone take at least 14 BatchWriteItem calls); the random ones
    // add the rest.
    proxy.setRules([
      { kind: 'reset', every: 7 },
      { kind: 'internal-error', every: 5 },
      { kind: 'throttle', every: 3 },
      { kind: 'reset', rate: 0.04 },
      { kind: 'internal-error', rate: 0.04 },
      { kind: 'throttle', rate: 0.08 },
      { kind: 'unprocessed', fraction: 0.3 },
    ]);
    const expected = new Map<string, Record<string, unknown>>();
    const bodies: unknown[] = [];
    for (let i = 0; i < 300; i++) {
      bodies.push({ op: 'put', item: { pk: `plain-${i}`, sk: '1', i } });
      expected.set(`plain-${i}`, { i });
    }
    for (let k = 0; k < 40; k++) {
      for (const v of [2, 5, 1, 4, 3])
        bodies.push({ op: 'put', item: { pk: `ver-${k}`, sk: '1', v }, version: v });
      expected.set(`ver-${k}`, { v: 5, _version: 5 });
    }
    for (let k = 0; k < 10; k++) {
      bodies.push({ op: 'delete', key: { pk: `ver-${k}`, sk: '1' }, version: 9 });
      expected.set(`ver-${k}`, { _deleted: true, _version: 9 });
    }
    const invalid = [
      '{"op"',
      { op: 'put', table: 'nope', item: { pk: 'x', sk: '1' } },
      { op: 'put', item: { pk: 'x' } },
    ];
    bodies.push(...invalid);

    // Act
    await pipeline.send(bodies);
    await pipeline.drain(120_000);
    proxy.setRules([]);

    // Assess
    const items = await pipeline.items();
    expect(items.size).toBe(expected.size);
    for (const [pk, fields] of expected) expect(items.get(pk), pk).toMatchObject(fields);
    const letters = await pipeline.deadLetters();
    expect(letters.map((l) => l.errorCode).sort()).toEqual(['INVALID_JSON', 'INVALID_KEY', 'UNKNOWN_TABLE']);
    expect(proxy.stats.unprocessedItems).toBeGreaterThan(0);
    expect(proxy.stats.throttled).toBeGreaterThan(0);
    expect(proxy.stats.internalErrors).toBeGreaterThan(0);
    expect(proxy.stats.resets).toBeGreaterThan(0);
  });

  it('reports writes throttled until the deadline as failures, and SQS redelivers them once DynamoDB recovers', async () => {
    // Prepare: DynamoDB throttles everything.
    proxy.setRules([{ kind: 'throttle', rate: 1 }]);
    const failedBefore = pipeline.poller.stats.failed;
    // Act
    await pipeline.send([{ op: 'put', item: { pk: 'late', sk: '1', ok: true } }]);
    await waitFor(() => pipeline.poller.stats.failed > failedBefore, 30_000);
    proxy.setRules([]);
    await pipeline.drain(60_000);
    // Assess
    expect((await pipeline.items()).get('late')).toMatchObject({ ok: true });
    expect(pipeline.poller.stats.failedInvocations).toBe(0);
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
