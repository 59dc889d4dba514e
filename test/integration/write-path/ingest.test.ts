import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

// The test app's standard write path on the local cloud: the bundled batch writer, run as Lambda
// runs it, with the template's environment, event source and IAM.
let pipeline: WritePathHarness;

beforeAll(async () => {
  pipeline = await startWritePath();
});

afterAll(async () => {
  try {
    expect(pipeline.denials()).toEqual([]);
  } finally {
    await pipeline?.stop();
  }
});

const put = (pk: string, fields: Record<string, unknown>, version?: number) => ({
  op: 'put',
  item: { pk, sk: '1', ...fields },
  ...(version === undefined ? {} : { version }),
});
const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { d: nested(levels - 1) });
const del = (pk: string, version?: number) => ({
  op: 'delete',
  key: { pk, sk: '1' },
  ...(version === undefined ? {} : { version }),
});

describe('write path on the local cloud', () => {
  it('coalesces duplicate keys so the highest version of each key is stored', async () => {
    // Prepare: 30 writes to 3 keys, versions shuffled (a standard queue has no order to rely on).
    const order = [
      17, 3, 29, 11, 0, 24, 8, 21, 14, 5, 27, 1, 19, 10, 26, 6, 13, 22, 2, 28, 9, 16, 4, 25, 12, 20, 7, 23,
      15, 18,
    ];
    const bodies = order.map((i) => put(`dup-${i % 3}`, { n: i }, i));
    // Act
    await pipeline.send(bodies);
    await pipeline.drain();
    // Assess
    const items = await pipeline.items();
    expect(items.get('dup-0')).toMatchObject({ n: 27 });
    expect(items.get('dup-1')).toMatchObject({ n: 28 });
    expect(items.get('dup-2')).toMatchObject({ n: 29 });
  });

  it('keeps the highest version whatever order versioned writes arrive in, across batches', async () => {
    const versions = [5, 2, 9, 1, 7, 9, 3];
    for (const v of versions) {
      await pipeline.send([put('ver', { v }, v)]);
      await pipeline.drain();
    }
    const item = (await pipeline.items()).get('ver');
    expect(item).toMatchObject({ v: 9, _version: 9 });
  });

  it('does not let an older put resurrect an item deleted with a higher version', async () => {
    await pipeline.send([put('gone', { v: 1 }, 1)]);
    await pipeline.drain();
    await pipeline.send([del('gone', 5)]);
    await pipeline.drain();
    await pipeline.send([put('gone', { v: 4 }, 4)]);
    await pipeline.drain();
    expect((await pipeline.items()).get('gone')).toMatchObject({ _deleted: true, _version: 5 });
    await pipeline.send([put('gone', { v: 6 }, 6)]);
    await pipeline.drain();
    expect((await pipeline.items()).get('gone')).toMatchObject({ v: 6, _version: 6 });
    expect((await pipeline.items()).get('gone')?._deleted).toBeUndefined();
  });

  it('deletes an item with an unversioned delete', async () => {
    await pipeline.send([put('plain', { v: 1 })]);
    await pipeline.drain();
    await pipeline.send([del('plain')]);
    await pipeline.drain();
    expect((await pipeline.items()).has('plain')).toBe(false);
  });

  it('sends every kind of bad input to the DLQ with its error code, and writes the good messages beside them', async () => {
    // Prepare
    const bad: Array<[unknown, string]> = [
      ['{"op":"put",', 'INVALID_JSON'],
      [{ op: 'upsert', item: { pk: 'x', sk: '1' } }, 'UNKNOWN_OP'],
      [{ op: 'put', item: { pk: 'x' } }, 'INVALID_KEY'],
      [{ op: 'put', table: 'users', item: { pk: 'x', sk: '1' } }, 'UNKNOWN_TABLE'],
      [put('x', {}, -1), 'INVALID_VERSION'],
      [put('x', {}, 1.5), 'INVALID_VERSION'],
      [{ op: 'put', item: { pk: 'x', sk: '1' }, extra: true }, 'INVALID_MESSAGE'],
      [put('x', { _version: 3 }), 'RESERVED_ATTRIBUTE'],
      [put('k'.repeat(2049), {}), 'KEY_TOO_LONG'],
      [put('big', { blob: 'x'.repeat(401 * 1024) }), 'ITEM_TOO_LARGE'],
      [{ op: 'delete', key: { pk: 'x', sk: '1', other: 'y' } }, 'INVALID_KEY'],
      [put('num', { n: 2 ** 60 }), 'UNSUPPORTED_VALUE'],
      [{ op: 'put', item: { pk: 'sk-long', sk: 's'.repeat(1025) } }, 'KEY_TOO_LONG'],
      [put('deep', { d: nested(33) }), 'NESTING_TOO_DEEP'],
      [{ op: 'delete', key: { pk: 'x', sk: 7 } }, 'INVALID_KEY'],
    ];
    const good = [put('good-1', { ok: true }), put('good-2', { ok: true })];
    // Act
    await pipeline.send([...bad.map(([body]) => body), ...good]);
    await pipeline.drain();
    // Assess
    const letters = await pipeline.deadLetters();
    expect(letters.map((l) => l.errorCode).sort()).toEqual(bad.map(([, code]) => code).sort());
    expect(letters.every((l) => l.errorMessage.length > 0)).toBe(true);
    const items = await pipeline.items();
    expect(items.get('good-1')).toMatchObject({ ok: true });
    expect(items.get('good-2')).toMatchObject({ ok: true });
    expect(items.has('x')).toBe(false);
  });
});

describe('two copies of the write path side by side', () => {
  it('keeps each copy to its own table, queues and grants', async () => {
    // Prepare: a second copy of the same stack, with names of its own.
    const second = await startWritePath();
    try {
      expect(second.tableName).not.toBe(pipeline.tableName);
      expect(second.queueUrl).not.toBe(pipeline.queueUrl);
      expect(second.grantedTables).toEqual([second.tableName]);
      expect(second.routes).toEqual({ items: expect.objectContaining({ tableName: second.tableName }) });
      const mark = (pk: string, copy: string) => ({ op: 'put', item: { pk, sk: '1', copy } });
      // Act
      await Promise.all([
        pipeline.send([mark('only-first', 'first'), mark('shared', 'first')]),
        second.send([mark('only-second', 'second'), mark('shared', 'second')]),
      ]);
      await Promise.all([pipeline.drain(), second.drain()]);
      // Assess
      const [firstItems, secondItems] = await Promise.all([pipeline.items(), second.items()]);
      const copies = (items: Map<string, Record<string, unknown>>) =>
        Object.fromEntries([...items].filter(([, item]) => item.copy).map(([pk, item]) => [pk, item.copy]));
      expect(copies(firstItems)).toEqual({ 'only-first': 'first', shared: 'first' });
      expect(copies(secondItems)).toEqual({ 'only-second': 'second', shared: 'second' });
      expect(second.denials()).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
