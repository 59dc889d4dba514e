import { beforeAll, describe, expect, it } from 'vitest';
import { del, put, waitForItem } from './support/items.ts';
import { DeadLetterReader, sendBodies, waitForQueueIdle } from './support/queues.ts';
import { getItem } from './support/tables.ts';
import { e2eTarget, type WritePathTarget } from './support/target.ts';
import { uniquePrefix } from './support/unique.ts';

// The write path as producers and readers see it: contract-v1 messages on the ingest queue, items
// in the items table, rejects in the DLQ with their ErrorCode (README: message contract v1).

let writePath: WritePathTarget;

beforeAll(async () => {
  ({ writePath } = await e2eTarget());
});

/** The same shuffle every run: a standard queue promises no order, so the test brings its own. */
function shuffled<T>(values: readonly T[]): T[] {
  const out = [...values];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const DAY_SECONDS = 86_400;
const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { d: nested(levels - 1) });

describe('write path', () => {
  it('stores the highest version of each key when many versioned writes hit a few keys at once', async () => {
    // Prepare: 3 keys × versions 1..20, shuffled, sent together so batches coalesce them.
    const prefix = uniquePrefix('coalesce');
    const keys = [0, 1, 2].map((i) => `${prefix}-${i}`);
    const writes = shuffled(
      keys.flatMap((pk) =>
        Array.from({ length: 20 }, (_, i) => put(pk, { n: i + 1, tag: `${pk}@${i + 1}` }, i + 1)),
      ),
    );
    // Act
    await sendBodies(writePath.ingestQueueUrl, writes);
    await Promise.all(
      keys.map((pk) => waitForItem(writePath.tableName, pk, (item) => item?._version === 20, 'version 20')),
    );
    await waitForQueueIdle(writePath.ingestQueueUrl);
    // Assess
    for (const pk of keys) {
      expect(await getItem(writePath.tableName, { pk, sk: '1' })).toEqual({
        pk,
        sk: '1',
        n: 20,
        tag: `${pk}@20`,
        _version: 20,
      });
    }
  });

  it('keeps the highest version whatever order versioned writes arrive in, across batches', async () => {
    // Prepare
    const pk = uniquePrefix('out-of-order');
    // Act: one send per version, out of order, with a repeat of the highest.
    for (const v of [5, 2, 9, 1, 7, 9, 3]) await sendBodies(writePath.ingestQueueUrl, [put(pk, { v }, v)]);
    await waitForItem(writePath.tableName, pk, (item) => item?._version === 9, 'version 9');
    await waitForQueueIdle(writePath.ingestQueueUrl);
    // Assess
    expect(await getItem(writePath.tableName, { pk, sk: '1' })).toEqual({ pk, sk: '1', v: 9, _version: 9 });
  });

  it('leaves a tombstone for a versioned delete that an older put cannot resurrect and a newer one replaces', async () => {
    // Prepare
    const pk = uniquePrefix('tombstone');
    await sendBodies(writePath.ingestQueueUrl, [put(pk, { v: 1 }, 1)]);
    await waitForItem(writePath.tableName, pk, (item) => item?._version === 1, 'version 1');
    const deletedFrom = Math.floor(Date.now() / 1000);
    // Act 1: the delete with version 5.
    await sendBodies(writePath.ingestQueueUrl, [del(pk, 5)]);
    const tombstone = await waitForItem(
      writePath.tableName,
      pk,
      (item) => item?._deleted === true,
      'a tombstone',
    );
    const deletedBy = Math.ceil(Date.now() / 1000);
    // Assess 1: `{ pk, sk, _version, _deleted: true, _expiresAt: now + 15 days }` and nothing else.
    expect(tombstone).toEqual({ pk, sk: '1', _version: 5, _deleted: true, _expiresAt: expect.any(Number) });
    // A few minutes either way for the clocks of the test machine and the function.
    expect(tombstone!._expiresAt).toBeGreaterThanOrEqual(deletedFrom + 15 * DAY_SECONDS - 300);
    expect(tombstone!._expiresAt).toBeLessThanOrEqual(deletedBy + 15 * DAY_SECONDS + 300);

    // Act 2: an older put arrives after the delete.
    await sendBodies(writePath.ingestQueueUrl, [put(pk, { v: 4 }, 4)]);
    await waitForQueueIdle(writePath.ingestQueueUrl);
    // Assess 2: still the tombstone.
    expect(await getItem(writePath.tableName, { pk, sk: '1' })).toEqual(tombstone);

    // Act 3: a newer put.
    await sendBodies(writePath.ingestQueueUrl, [put(pk, { v: 6 }, 6)]);
    const revived = await waitForItem(writePath.tableName, pk, (item) => item?._version === 6, 'version 6');
    // Assess 3: a whole new item, no tombstone attributes left.
    expect(revived).toEqual({ pk, sk: '1', v: 6, _version: 6 });
  });

  it('removes an item for an unversioned delete', async () => {
    // Prepare
    const pk = uniquePrefix('plain-delete');
    await sendBodies(writePath.ingestQueueUrl, [put(pk, { v: 1 })]);
    await waitForItem(writePath.tableName, pk, (item) => item !== undefined, 'the item');
    // Act
    await sendBodies(writePath.ingestQueueUrl, [del(pk)]);
    // Assess
    expect(
      await waitForItem(writePath.tableName, pk, (item) => item === undefined, 'no item'),
    ).toBeUndefined();
  });

  it('dead-letters every kind of bad input with its ErrorCode and writes the good messages beside them', async () => {
    // Prepare: every reject a producer can cause with the default routing (README "Rejects"). Each
    // body carries the prefix, so the DLQ letters of this run can be told from anyone else's.
    const p = uniquePrefix('bad-input');
    const bad: ReadonlyArray<readonly [unknown, string]> = [
      [`{"op":"put","item":{"pk":"${p}-json"`, 'INVALID_JSON'],
      [{ op: 'upsert', item: { pk: `${p}-op`, sk: '1' } }, 'UNKNOWN_OP'],
      [{ item: { pk: `${p}-no-op`, sk: '1' } }, 'UNKNOWN_OP'],
      [{ ...put(`${p}-extra`), extra: true }, 'INVALID_MESSAGE'],
      [{ op: 'put', key: { pk: `${p}-no-item`, sk: '1' } }, 'INVALID_MESSAGE'],
      [put(`${p}-bad-table-name`, {}, undefined, 'no spaces allowed'), 'INVALID_MESSAGE'],
      [`{"op":"put","item":{"pk":"${p}-proto","sk":"1","__proto__":{"x":1}}}`, 'INVALID_MESSAGE'],
      [put(`${p}-negative`, {}, -1), 'INVALID_VERSION'],
      [put(`${p}-fraction`, {}, 1.5), 'INVALID_VERSION'],
      [{ ...put(`${p}-string-version`), version: '7' }, 'INVALID_VERSION'],
      [put(`${p}-unsafe-version`, {}, 2 ** 53), 'INVALID_VERSION'],
      [put(`${p}-unknown-table`, {}, undefined, `${p}-no-such-table`), 'UNKNOWN_TABLE'],
      [{ op: 'put', item: { pk: `${p}-no-sk` } }, 'INVALID_KEY'],
      [{ op: 'put', item: { pk: '', sk: `${p}-empty-pk` } }, 'INVALID_KEY'],
      [{ op: 'delete', key: { pk: `${p}-extra-key`, sk: '1', other: 'y' } }, 'INVALID_KEY'],
      [{ op: 'delete', key: { pk: `${p}-numeric-sk`, sk: 7 } }, 'INVALID_KEY'],
      [put(`${p}-reserved-version`, { _version: 3 }), 'RESERVED_ATTRIBUTE'],
      [put(`${p}-reserved-deleted`, { _deleted: true }), 'RESERVED_ATTRIBUTE'],
      [put(`${p}-reserved-expires`, { _expiresAt: 1 }), 'RESERVED_ATTRIBUTE'],
      [put(`${p}-big`, { blob: 'x'.repeat(401 * 1024) }), 'ITEM_TOO_LARGE'],
      [put(`${p}-${'k'.repeat(2049)}`), 'KEY_TOO_LONG'],
      [{ op: 'put', item: { pk: `${p}-long-sk`, sk: 's'.repeat(1025) } }, 'KEY_TOO_LONG'],
      [put(`${p}-deep`, { d: nested(33) }), 'NESTING_TOO_DEEP'],
      [put(`${p}-unsafe-integer`, { n: 2 ** 60 }), 'UNSUPPORTED_VALUE'],
      // Finite and not an integer, so the batcher passes it; DynamoDB's smallest magnitude is 1E-130.
      [put(`${p}-underflow`, { n: 1e-131 }), 'DYNAMODB_VALIDATION'],
    ];
    const good = [put(`${p}-good-1`, { ok: true }), put(`${p}-good-2`, { ok: true })];
    const deadLetters = new DeadLetterReader(writePath.deadLetterQueueUrl, p);
    // Act
    const ids = await sendBodies(writePath.ingestQueueUrl, [...bad.map(([body]) => body), ...good]);
    await deadLetters.waitFor((letters) => letters.length >= bad.length, `${bad.length} dead letters`);
    await waitForQueueIdle(writePath.ingestQueueUrl);
    const letters = await deadLetters.sweep();
    // Assess: each bad message once, with its original body, code and a reason.
    const bySource = new Map(letters.map((letter) => [letter.sourceMessageId, letter]));
    expect(bad.map((_, i) => bySource.get(ids[i])?.errorCode)).toEqual(bad.map(([, code]) => code));
    expect(letters).toHaveLength(bad.length);
    bad.forEach(([body], i) => {
      const letter = bySource.get(ids[i])!;
      expect(letter.body).toBe(typeof body === 'string' ? body : JSON.stringify(body));
      expect(letter.errorMessage).toMatch(/\S/);
    });
    for (const pk of [`${p}-good-1`, `${p}-good-2`]) {
      expect(await getItem(writePath.tableName, { pk, sk: '1' })).toEqual({ pk, sk: '1', ok: true });
    }
  });
});
