import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.ts';
import { startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

// The test app's write path on the local cloud (10 s function timeout, 60 s visibility), whose
// DynamoDB gateway forwards to DynamoDB Local only through a real HTTP proxy that injects faults.
// The faults hit the batch writer's writes (BatchWriteItem, PutItem): its config-snapshot reads
// (GetItem) are not under test here, and a failed first snapshot load fails its invocation by design.
const WRITES = ['BatchWriteItem', 'PutItem'];
let proxy: FaultProxy;
let pipeline: WritePathHarness;

beforeAll(async () => {
  proxy = await startFaultProxy({ target: inject('localAws').dynamodb, seed: 7 });
  pipeline = await startWritePath({ dynamodbEndpoint: proxy.url });
});

afterAll(async () => {
  try {
    expect(pipeline.denials()).toEqual([]);
  } finally {
    await pipeline?.stop();
    await proxy?.close();
  }
});

describe('write path under injected faults', () => {
  it('ends with exactly the expected table, every message written or dead-lettered with a reason', async () => {
    // Prepare
    // The `every` rules make each fault kind happen within the first 7 requests, whatever the
    // timing (the 340 distinct keys alone take at least 14 BatchWriteItem calls); the random ones
    // add the rest.
    proxy.setRules([
      { kind: 'reset', every: 7, operations: WRITES },
      { kind: 'internal-error', every: 5, operations: WRITES },
      { kind: 'throttle', every: 3, operations: WRITES },
      { kind: 'reset', rate: 0.04, operations: WRITES },
      { kind: 'internal-error', rate: 0.04, operations: WRITES },
      { kind: 'throttle', rate: 0.08, operations: WRITES },
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
    await pipeline.drain(150_000);
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
  }, 180_000);

  it('reports writes throttled until the deadline as failures, and SQS redelivers them once DynamoDB recovers', async () => {
    // Prepare: DynamoDB throttles every write.
    proxy.setRules([{ kind: 'throttle', rate: 1, operations: WRITES }]);
    const { failed: failedBefore, records: recordsBefore } = pipeline.poller.stats;
    // Act
    await pipeline.send([{ op: 'put', item: { pk: 'late', sk: '1', ok: true } }]);
    await waitFor(() => pipeline.poller.stats.failed > failedBefore, 30_000);
    proxy.setRules([]);
    // Received again once the visibility timeout (60 s) has passed since the first receive.
    await pipeline.drain(90_000);
    // Assess
    expect((await pipeline.items()).get('late')).toMatchObject({ ok: true });
    // Reported as a batch item failure (not a failed invocation), then received again.
    expect(pipeline.poller.stats.failedInvocations).toBe(0);
    expect(pipeline.poller.stats.records - recordsBefore).toBeGreaterThanOrEqual(2);
  }, 180_000);
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
