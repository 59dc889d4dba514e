import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { del, put } from './support/items.ts';
import { done, eventually, notYet } from './support/poll.ts';
import { type DeadLetter, DeadLetterReader, sendBodies } from './support/queues.ts';
import { type SnapshotCli, snapshotCli } from './support/snapshot-cli.ts';
import { getItem } from './support/tables.ts';
import { e2eTarget, type WritePathTarget } from './support/target.ts';
import { uniquePrefix } from './support/unique.ts';

// Configuration as operators change it: config changes on the config-changes FIFO queue (applied
// by the snapshot publisher) and the `pipeline snapshot` CLI, observed on the write path. Every test
// that changes the `pipeline` snapshot lives in this file, so their changes never race each other;
// each adds only paths of its own (removed again in afterAll).

let writePath: WritePathTarget;
let cli: SnapshotCli;
/** Config paths the tests added, removed after the file. */
const added: string[] = [];

beforeAll(async () => {
  ({ writePath } = await e2eTarget());
  cli = await snapshotCli(writePath);
});

afterAll(async () => {
  if (added.length > 0) {
    await sendBodies(
      writePath.configChangesQueueUrl,
      added.map((path) => ({ op: 'delete', path })),
      { groupId: uniquePrefix('cleanup') },
    );
    await eventually(
      async () => {
        const document = await cli.stableDocument();
        const left = added.filter((path) => valueAt(document, path) !== undefined);
        return left.length === 0 ? done(undefined) : notYet(left);
      },
      { what: 'the test paths to leave the snapshot' },
    );
  }
  await cli?.[Symbol.asyncDispose]();
});

/** The value at a dotted path of a document. */
function valueAt(document: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
}

/** `set` changes, sent as a producer does: one message group, a unique deduplication id each. */
async function publishChanges(groupId: string, changes: readonly { path: string; value: unknown }[]) {
  added.push(...new Set(changes.map((c) => c.path)));
  await sendBodies(
    writePath.configChangesQueueUrl,
    changes.map(({ path, value }) => ({ op: 'set', path, value })),
    { groupId },
  );
}

/** The stable document once `holds(document)`. */
function stableDocumentWhere(holds: (document: unknown) => boolean, what: string) {
  return eventually(
    async () => {
      const document = await cli.stableDocument();
      return holds(document) ? done(document) : notYet(document);
    },
    { what },
  );
}

/** The versions `snapshot list` shows, newest first. */
async function listedVersions(): Promise<number[]> {
  const { stdout } = await cli.run('list');
  return [...stdout.matchAll(/^\s*(\d+)\s/gm)].map((match) => Number(match[1]));
}

type Outcome =
  | { readonly kind: 'applied'; readonly item: Record<string, unknown> | undefined }
  | { readonly kind: 'dead-lettered'; readonly letter: DeadLetter };

/**
 * Sends `message(n)` for n = 1, 2, … — each awaited to its end: applied (the item shows the write)
 * or dead-lettered — until an outcome is `wanted`; resolves with every outcome. Batch-writer
 * instances each adopt a new snapshot within its max age, so early messages may still meet the
 * old routing.
 */
async function sendUntil(
  dlq: DeadLetterReader,
  message: (n: number) => {
    readonly body: unknown;
    readonly pk: string;
    readonly applied: (item: unknown) => boolean;
  },
  wanted: (outcome: Outcome) => boolean,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  await eventually(
    async () => {
      const { body, pk, applied } = message(outcomes.length + 1);
      const [id] = await sendBodies(writePath.ingestQueueUrl, [body]);
      const outcome = await eventually<Outcome>(
        async () => {
          const letter = (await dlq.poll()).find((l) => l.sourceMessageId === id);
          if (letter) return done({ kind: 'dead-lettered', letter });
          const item = await getItem(writePath.tableName, { pk, sk: '1' });
          return applied(item) ? done({ kind: 'applied', item }) : notYet(item);
        },
        { what: `message ${id} to be applied or dead-lettered` },
      );
      outcomes.push(outcome);
      return wanted(outcome) ? done(undefined) : notYet(outcomes);
    },
    { what: 'the wanted outcome', intervalMs: 0 },
  );
  return outcomes;
}

const codesOf = (outcomes: readonly Outcome[]) =>
  outcomes.map((o) => (o.kind === 'dead-lettered' ? o.letter.errorCode : o.kind));

describe('config changes', () => {
  it('applies the changes of one FIFO message group in order, so the snapshot ends with the last', async () => {
    // Prepare: 12 versions of one model entry (more than one publisher batch of 10), then a marker.
    const model = uniquePrefix('fifo');
    const [newestBefore = 0] = await listedVersions();
    const changes = [
      ...Array.from({ length: 12 }, (_, i) => ({
        path: `models.${model}`,
        value: { version: String(i + 1) },
      })),
      { path: `models.${model}-last`, value: { version: 'marker' } },
    ];
    // Act
    await publishChanges(model, changes);
    // In order, the marker can only be applied after all twelve.
    const document = await stableDocumentWhere(
      (d) => valueAt(d, `models.${model}-last`) !== undefined,
      'the marker change in the snapshot',
    );
    const published = (await listedVersions()).filter((v) => v > newestBefore).reverse();
    const history: unknown[] = [];
    for (const version of published) {
      const { stdout } = await cli.run('get', '--version', String(version));
      history.push(valueAt(JSON.parse(stdout), `models.${model}.version`));
    }
    // Assess: the last change won, and no published version ever went back.
    expect(valueAt(document, `models.${model}`)).toEqual({ version: '12' });
    const numbers = history.filter((v) => v !== undefined).map(Number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(numbers.at(-1)).toBe(12);
  });

  it('routes a new logical table once a config change publishes it, after refusing it as UNKNOWN_TABLE', async () => {
    // Prepare: a logical table of this run only; before the change the write path does not know it.
    const logical = uniquePrefix('orders');
    const dlq = new DeadLetterReader(writePath.deadLetterQueueUrl, logical);
    const [beforeId] = await sendBodies(writePath.ingestQueueUrl, [
      put(`${logical}-before`, {}, undefined, logical),
    ]);
    const [before] = await dlq.waitFor(
      (letters) => letters.some((l) => l.sourceMessageId === beforeId),
      'the write sent before the change',
    );
    const route = { tableName: writePath.tableName, partitionKey: 'pk', sortKey: 'sk', ops: ['put'] };
    // Act: route it to the items table (granted), puts only.
    await publishChanges(logical, [{ path: `routing.${logical}`, value: route }]);
    const document = await stableDocumentWhere(
      (d) => valueAt(d, `routing.${logical}`) !== undefined,
      'the route in the snapshot',
    );
    const puts = await sendUntil(
      dlq,
      (n) => ({
        body: put(`${logical}-put-${n}`, { via: logical }, undefined, logical),
        pk: `${logical}-put-${n}`,
        applied: (item) => item !== undefined,
      }),
      (outcome) => outcome.kind === 'applied',
    );
    const written = puts.at(-1)!;
    const writtenPk = `${logical}-put-${puts.length}`;
    const deletes = await sendUntil(
      dlq,
      () => ({
        body: del(writtenPk, undefined, logical),
        pk: writtenPk,
        applied: (item) => item === undefined,
      }),
      (outcome) => outcome.kind === 'dead-lettered' && outcome.letter.errorCode === 'OP_NOT_ALLOWED',
    );
    // Assess
    expect(before).toMatchObject({
      errorCode: 'UNKNOWN_TABLE',
      errorMessage: expect.stringContaining(`table "${logical}" is not routed`),
    });
    expect(valueAt(document, `routing.${logical}`)).toEqual({ ...route, keyType: 'S' });
    expect(written).toEqual({
      kind: 'applied',
      item: { pk: writtenPk, sk: '1', via: logical },
    });
    // Until every batch-writer instance has adopted the snapshot, the old routing may still answer.
    expect(new Set(codesOf(puts.slice(0, -1)))).toEqual(new Set(puts.length > 1 ? ['UNKNOWN_TABLE'] : []));
    expect(codesOf(deletes).at(-1)).toBe('OP_NOT_ALLOWED');
    expect(codesOf(deletes).every((code) => code === 'UNKNOWN_TABLE' || code === 'OP_NOT_ALLOWED')).toBe(
      true,
    );
    expect(await getItem(writePath.tableName, { pk: writtenPk, sk: '1' })).toBeDefined();
  });

  it('refuses a route to a table the pipeline may not write: ROUTE_NOT_GRANTED in the config-changes DLQ and from the CLI', async () => {
    // Prepare
    const logical = uniquePrefix('not-granted');
    const table = `${logical}-table`;
    const route = { tableName: table, partitionKey: 'pk', sortKey: 'sk' };
    const refusal = `routing.${logical}.tableName: table "${table}" is not one the pipeline may write`;
    const changesDlq = new DeadLetterReader(writePath.configChangesDeadLetterQueueUrl, logical);
    const file = await cli.writeDocument(`${logical}.json`, {
      routing: {
        items: { tableName: writePath.tableName, partitionKey: 'pk', sortKey: 'sk' },
        [logical]: route,
      },
    });
    // Act 1: through the config-changes queue.
    await sendBodies(
      writePath.configChangesQueueUrl,
      [{ op: 'set', path: `routing.${logical}`, value: route }],
      { groupId: logical },
    );
    const letters = await changesDlq.waitFor((l) => l.length > 0, 'the refused change');
    // Act 2: through the CLI.
    const pointerBefore = (await cli.run('list')).stdout.split('\n')[0];
    const published = await cli.run('publish', file);
    const pointerAfter = (await cli.run('list')).stdout.split('\n')[0];
    // Assess
    expect(letters).toEqual([
      expect.objectContaining({
        errorCode: 'ROUTE_NOT_GRANTED',
        errorMessage: expect.stringContaining(refusal),
      }),
    ]);
    expect(published).toMatchObject({ exitCode: 2, stdout: '', stderr: expect.stringContaining(refusal) });
    expect(pointerAfter).toBe(pointerBefore);
    expect(valueAt(await cli.stableDocument(), `routing.${logical}`)).toBeUndefined();
  });
});
