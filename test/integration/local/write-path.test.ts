import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

// Each local write path builds its own batch writer from a typed environment (no process.env, no
// module-level handler), so two can run side by side in one process.
let first: WritePathHarness;
let second: WritePathHarness;

beforeAll(async () => {
  [first, second] = await Promise.all([startWritePath(), startWritePath()]);
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
});

const put = (pk: string, path: string) => ({ op: 'put', item: { pk, sk: '1', path } });

describe('startLocalWritePath', () => {
  it('runs two write paths in one process, each writing only to its own table', async () => {
    // Prepare
    expect(first.resources.tableName).not.toBe(second.resources.tableName);
    // Act
    await Promise.all([
      first.send([put('a', 'first'), put('shared', 'first')]),
      second.send([put('b', 'second'), put('shared', 'second')]),
    ]);
    await Promise.all([first.drain(), second.drain()]);
    // Assess
    const [firstItems, secondItems] = await Promise.all([first.items(), second.items()]);
    expect(Object.fromEntries([...firstItems].map(([pk, item]) => [pk, item.path]))).toEqual({
      a: 'first',
      shared: 'first',
    });
    expect(Object.fromEntries([...secondItems].map(([pk, item]) => [pk, item.path]))).toEqual({
      b: 'second',
      shared: 'second',
    });
    expect(first.bootstrap.routing).toEqual({ items: first.resources.routes.items });
    expect(second.grantedTables).toEqual([second.resources.tableName]);
  });
});
