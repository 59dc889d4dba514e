import { describe, expect, it } from 'vitest';
import { processConfigChanges } from '../../../../functions/snapshot-publisher/core.ts';
import { parsePipelineConfig, pipelineConfigParser } from '../../../../shared/pipeline/config.ts';
import type { DeadLetter, DeadLetterSink } from '../../../../shared/pipeline/dead-letter.ts';
import { SnapshotPublisher } from '../../../../shared/snapshots/publisher.ts';
import { sqsRecord } from '../../../support/factories/sqs.ts';
import { MemorySnapshotStore } from '../../../support/fakes/memory-snapshot-store.ts';

const NAME = 'pipeline';
const route = (tableName: string) => ({ tableName, partitionKey: 'pk', sortKey: 'sk' });

class RecordingSink implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  refuse = new Set<string>();
  async send(letters: readonly DeadLetter[]): Promise<boolean[]> {
    this.letters.push(...letters);
    return letters.map((l) => !this.refuse.has(l.messageId));
  }
}

/** `'empty'`: nothing published yet. */
async function setup(initial: unknown = { routing: { items: route('items-table') } }) {
  const store = new MemorySnapshotStore();
  const publisher = new SnapshotPublisher({ store, validate: parsePipelineConfig });
  if (initial !== 'empty') await publisher.publish(NAME, initial);
  const deadLetters = new RecordingSink();
  const deps = { publisher, name: NAME, validate: parsePipelineConfig, deadLetters, source: 'test' };
  return { store, publisher, deadLetters, deps };
}

describe('processConfigChanges', () => {
  it('coalesces a batch of changes into one new version', async () => {
    // Prepare
    const { store, publisher, deps } = await setup();
    const records = [
      sqsRecord({ op: 'set', path: 'routing.orders', value: route('orders-table') }),
      sqsRecord({ op: 'set', path: '/writeOptions/maxConcurrency', value: 16 }),
      sqsRecord({ op: 'delete', path: 'routing.items' }),
    ];
    // Act
    const response = await processConfigChanges(records, deps);
    const { data, manifest } = await publisher.read(NAME);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(manifest.version).toBe(2);
    expect(store.pointers.get(NAME)?.generation).toBe(2);
    expect(Object.keys((data as { routing: object }).routing)).toEqual(['orders']);
    expect(data).toMatchObject({ writeOptions: { maxConcurrency: 16 } });
  });

  it('sends malformed and schema-breaking changes to the DLQ with their reason and publishes the rest', async () => {
    // Prepare
    const { publisher, deadLetters, deps } = await setup();
    const records = [
      sqsRecord('{"op":"set"'),
      sqsRecord({ op: 'set', path: 'routing.orders', value: route('orders-table') }),
      sqsRecord({ op: 'set', path: 'routing.items.ops', value: ['upsert'] }),
    ];
    // Act
    const response = await processConfigChanges(records, deps);
    const { data } = await publisher.read(NAME);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.letters.map((l) => [l.messageId, l.errorCode])).toEqual([
      [records[0]!.messageId, 'INVALID_JSON'],
      [records[2]!.messageId, 'CHANGE_REJECTED'],
    ]);
    expect(deadLetters.letters[1]!.errorMessage).toMatch(/routing\.items\.ops\.0/);
    expect(data).toMatchObject({
      routing: { orders: { tableName: 'orders-table' }, items: { ops: ['put', 'delete'] } },
    });
  });

  it('sends a change that breaks the snapshot’s JSON Schema to the DLQ, naming the path, and publishes the rest', async () => {
    // Prepare: every model must name an S3 path.
    const { publisher, deadLetters, deps } = await setup();
    await publisher.schemas.set(
      NAME,
      JSON.stringify({
        type: 'object',
        properties: {
          models: { type: 'object', additionalProperties: { type: 'object', required: ['path'] } },
        },
      }),
    );
    const records = [
      sqsRecord({ op: 'set', path: 'models.classifier', value: { version: 'v7' } }),
      sqsRecord({
        op: 'set',
        path: 'models.ranker',
        value: { version: 'v2', path: 's3://models/ranker/v2' },
      }),
    ];
    // Act
    const response = await processConfigChanges(records, deps);
    const { data } = await publisher.read(NAME);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.letters.map((l) => [l.messageId, l.errorCode])).toEqual([
      [records[0]!.messageId, 'CHANGE_REJECTED'],
    ]);
    expect(deadLetters.letters[0]!.errorMessage).toMatch(
      /^set models\.classifier would make the configuration invalid: \/models\/classifier\/path: is required/,
    );
    expect(data).toMatchObject({ models: { ranker: { version: 'v2' } } });
    expect(data).not.toHaveProperty('models.classifier');
  });

  it('publishes nothing when the batch changes nothing', async () => {
    // Prepare
    const { store, deps } = await setup();
    const records = [sqsRecord({ op: 'delete', path: 'routing.missing' })];
    // Act
    const response = await processConfigChanges(records, deps);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(store.pointers.get(NAME)?.generation).toBe(1);
  });

  it('starts the document from a replace when nothing was published yet', async () => {
    // Prepare
    const { publisher, deps } = await setup('empty');
    const records = [
      sqsRecord({ op: 'replace', document: { routing: { items: route('items-table') } } }),
      sqsRecord({ op: 'set', path: 'models.classifier', value: { version: 'v7' } }),
    ];
    // Act
    await processConfigChanges(records, deps);
    const { data } = await publisher.read(NAME);
    // Assess
    expect(data).toMatchObject({ routing: { items: {} }, models: { classifier: { version: 'v7' } } });
  });

  it('starts the first version from the bootstrap document, so a first `set` keeps the bootstrap routes', async () => {
    // Prepare
    const { publisher, deps } = await setup('empty');
    const validate = pipelineConfigParser(['items-table', 'orders-table']);
    const bootstrap = validate({
      routing: { items: route('items-table') },
      writeOptions: { maxConcurrency: 4 },
    });
    const records = [sqsRecord({ op: 'set', path: 'routing.orders', value: route('orders-table') })];
    // Act
    const response = await processConfigChanges(records, { ...deps, validate, bootstrap });
    const { data, manifest } = await publisher.read(NAME);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(manifest.version).toBe(1);
    expect(data).toEqual(
      validate({ ...bootstrap, routing: { ...bootstrap.routing, orders: route('orders-table') } }),
    );
  });

  it('publishes nothing for a first batch whose changes are all rejected', async () => {
    // Prepare
    const { store, deadLetters, deps } = await setup('empty');
    const bootstrap = parsePipelineConfig({ routing: { items: route('items-table') } });
    const records = [sqsRecord({ op: 'set', path: 'routing.items.ops', value: ['upsert'] })];
    // Act
    await processConfigChanges(records, { ...deps, bootstrap });
    // Assess
    expect(deadLetters.letters.map((l) => l.errorCode)).toEqual(['CHANGE_REJECTED']);
    expect(store.pointers.get(NAME)).toBeUndefined();
  });

  it('dead-letters a change that routes to a table the pipeline is not granted with ROUTE_NOT_GRANTED, publishing the others', async () => {
    // Prepare
    const { publisher, deadLetters, deps } = await setup();
    const validate = pipelineConfigParser(['items-table', 'orders-table']);
    const records = [
      sqsRecord({ op: 'set', path: 'routing.audit', value: route('audit-table') }),
      sqsRecord({ op: 'set', path: 'routing.orders', value: route('orders-table') }),
    ];
    // Act
    const response = await processConfigChanges(records, { ...deps, validate });
    const { data } = await publisher.read(NAME);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.letters.map((l) => [l.messageId, l.errorCode])).toEqual([
      [records[0]!.messageId, 'ROUTE_NOT_GRANTED'],
    ]);
    expect(deadLetters.letters[0]!.errorMessage).toMatch(/routing\.audit\.tableName: table "audit-table"/);
    expect(Object.keys((data as { routing: object }).routing)).toEqual(['items', 'orders']);
  });

  it('rebases on a version published while it was working, losing neither change', async () => {
    // Prepare
    const { store, publisher, deps } = await setup();
    let raced = false;
    store.beforeResolve = async (method) => {
      if (method !== 'swapPointer' || raced) return;
      raced = true;
      store.beforeResolve = undefined;
      await publisher.publish(NAME, {
        routing: { items: route('items-table'), audit: route('audit-table') },
      });
    };
    const records = [sqsRecord({ op: 'set', path: 'routing.orders', value: route('orders-table') })];
    // Act
    const response = await processConfigChanges(records, { ...deps, maxAttempts: 3 });
    const { data } = await publisher.read(NAME);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(Object.keys((data as { routing: object }).routing).sort()).toEqual(['audit', 'items', 'orders']);
  });

  it('reports every change as failed when the version cannot be published, still dead-lettering malformed ones', async () => {
    // Prepare
    const { store, deadLetters, deps } = await setup();
    store.failNext('putVersion', () => new Error('throttled'));
    const records = [
      sqsRecord('nope'),
      sqsRecord({ op: 'set', path: 'routing.orders', value: route('orders-table') }),
    ];
    // Act
    const response = await processConfigChanges(records, deps);
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.messageId }]);
    expect(deadLetters.letters.map((l) => l.messageId)).toEqual([records[0]!.messageId]);
  });

  it('keeps a rejected change for redelivery when the DLQ refuses it', async () => {
    // Prepare
    const { deadLetters, deps } = await setup();
    const records = [sqsRecord({ op: 'unknown' })];
    deadLetters.refuse.add(records[0]!.messageId);
    // Act
    const response = await processConfigChanges(records, deps);
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.messageId }]);
  });
});
