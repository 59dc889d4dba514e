import { describe, expect, it } from 'vitest';
import {
  InvalidDocumentSchemaError,
  InvalidSnapshotDocumentError,
} from '../../../../shared/snapshots/errors.ts';
import { SnapshotPublisher } from '../../../../shared/snapshots/publisher.ts';
import { MemorySnapshotStore } from '../../../support/fakes/memory-snapshot-store.ts';

const NAME = 'devices';
const SCHEMA = JSON.stringify({
  type: 'object',
  required: ['devices'],
  additionalProperties: false,
  properties: {
    devices: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'threshold'],
        properties: { id: { type: 'string' }, threshold: { type: 'number', minimum: 0 } },
      },
    },
  },
});

function setup() {
  const store = new MemorySnapshotStore();
  const publisher = new SnapshotPublisher({ store, clock: () => new Date('2026-12-01T10:00:00Z') });
  return { store, publisher };
}

describe('JSON Schema per snapshot name', () => {
  it('publishes a document that satisfies the schema', async () => {
    // Prepare
    const { publisher } = setup();
    await publisher.schemas.set(NAME, SCHEMA, { source: 'test' });
    // Act
    const { manifest } = await publisher.publish(NAME, { devices: [{ id: 'a', threshold: 1 }] });
    // Assess
    expect(manifest.version).toBe(1);
  });

  it('refuses a document that breaks it, listing every JSON pointer path, and writes nothing', async () => {
    // Prepare
    const { store, publisher } = setup();
    await publisher.schemas.set(NAME, SCHEMA);
    const document = { devices: [{ id: 7, threshold: -1 }, { threshold: 2 }], extra: true };
    // Act
    const publish = publisher.publish(NAME, document);
    // Assess
    await expect(publish).rejects.toBeInstanceOf(InvalidSnapshotDocumentError);
    await expect(publish).rejects.toMatchObject({
      code: 'INVALID_SNAPSHOT_DOCUMENT',
      path: '/extra',
      issues: [
        { path: '/extra', message: 'is not allowed by the schema' },
        { path: '/devices/0/id', message: 'must be string' },
        { path: '/devices/0/threshold', message: 'must be >= 0' },
        { path: '/devices/1/id', message: 'is required' },
      ],
      message: expect.stringMatching(
        /^\/extra: is not allowed by the schema; \/devices\/0\/id: must be string; .* \(JSON Schema of snapshot "devices"\)$/,
      ),
    });
    expect([store.calls.allocateVersion, store.calls.putVersion, store.calls.swapPointer]).toEqual([0, 0, 0]);
  });

  it('checks the document as published, after the publisher’s own validate filled in defaults', async () => {
    // Prepare
    const store = new MemorySnapshotStore();
    const publisher = new SnapshotPublisher({ store, validate: (d) => ({ ...(d as object), filled: 1 }) });
    await publisher.schemas.set(NAME, JSON.stringify({ type: 'object', required: ['filled'] }));
    // Act
    const { manifest } = await publisher.publish(NAME, {});
    // Assess
    expect(manifest.version).toBe(1);
  });

  it('applies only to its own name', async () => {
    // Prepare
    const { publisher } = setup();
    await publisher.schemas.set(NAME, SCHEMA);
    // Act
    const { manifest } = await publisher.publish('other', { anything: true });
    // Assess
    expect(manifest.name).toBe('other');
  });

  it('accepts draft-07 when $schema says so', async () => {
    // Prepare
    const { publisher } = setup();
    const draft7 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', required: ['a'] };
    await publisher.schemas.set(NAME, JSON.stringify(draft7));
    // Act
    const publish = publisher.publish(NAME, {});
    // Assess
    await expect(publish).rejects.toMatchObject({ issues: [{ path: '/a', message: 'is required' }] });
  });

  it.each([
    ['text that is not JSON', '{"type": ', /is not valid JSON/],
    ['an array', '[]', /must be a JSON object \(or true\/false\)/],
    ['an unknown keyword (a typo)', '{"type": "object", "requierd": ["a"]}', /unknown keyword: "requierd"/],
    ['a bad type', '{"type": "objekt"}', /schema is invalid/],
    [
      'an unsupported draft',
      '{"$schema": "http://json-schema.org/draft-04/schema#"}',
      /\$schema "http:\/\/json-schema.org\/draft-04\/schema#" is not supported/,
    ],
  ])('refuses to set %s, storing nothing', async (_, text, message) => {
    // Prepare
    const { store, publisher } = setup();
    // Act
    const set = publisher.schemas.set(NAME, text);
    // Assess
    await expect(set).rejects.toBeInstanceOf(InvalidDocumentSchemaError);
    await expect(set).rejects.toMatchObject({
      code: 'INVALID_DOCUMENT_SCHEMA',
      message: expect.stringMatching(message),
    });
    expect(store.schemas.size).toBe(0);
  });

  it('stores the schema text with its hash and who set it, and removes it', async () => {
    // Prepare
    const { publisher } = setup();
    // Act
    const record = await publisher.schemas.set(NAME, SCHEMA, { source: 'ops' });
    const read = await publisher.schemas.get(NAME);
    const removed = [await publisher.schemas.delete(NAME), await publisher.schemas.delete(NAME)];
    // Assess
    expect(read).toEqual(record);
    expect(record).toMatchObject({
      name: NAME,
      schema: SCHEMA,
      updatedBy: 'ops',
      updatedAt: '2026-12-01T10:00:00.000Z',
    });
    expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(removed).toEqual([true, false]);
  });

  it('gives change-by-change callers the same check publish applies', async () => {
    // Prepare
    const { publisher } = setup();
    await publisher.schemas.set(NAME, SCHEMA);
    // Act
    const check = await publisher.documentCheck(NAME);
    // Assess
    expect(check({ devices: [] })).toEqual({ devices: [] });
    expect(() => check({})).toThrow(expect.objectContaining({ path: '/devices' }));
  });
});
