import { describe, expect, it } from 'vitest';
import {
  decodeDocument,
  deepFreeze,
  encodeDocument,
  parseJson,
  sha256,
} from '../../../../shared/snapshots/codec.ts';
import {
  ChecksumMismatchError,
  InvalidSnapshotJsonError,
  SnapshotTooLargeError,
} from '../../../../shared/snapshots/errors.ts';
import type { Manifest } from '../../../../shared/snapshots/types.ts';

const document = { routing: { items: { tableName: 'items', ops: ['put', 'delete'] } }, n: [1, 2, 3] };

function manifestOf(encoded: Awaited<ReturnType<typeof encodeDocument>>): Manifest {
  return {
    name: 'app',
    version: 1,
    createdAt: '2026-11-26T00:00:00Z',
    source: 'test',
    schemaVersion: 1,
    sha256: encoded.sha256,
    bytes: encoded.bytes,
    compression: encoded.compression,
    compressedSha256: encoded.compressedSha256,
    compressedBytes: encoded.compressedBytes,
    chunkCount: encoded.chunks.length,
  };
}

describe('encode and decode', () => {
  it.each(['gzip', 'br'] as const)('round-trips a document compressed with %s', async (compression) => {
    // Prepare
    const encoded = await encodeDocument(document, { compression, chunkBytes: 16 });
    // Act
    const decoded = await decodeDocument(manifestOf(encoded), encoded.chunks);
    // Assess
    expect(decoded).toEqual(document);
    expect(encoded.chunks.length).toBeGreaterThan(1);
    expect(encoded.sha256).toBe(sha256(Buffer.from(JSON.stringify(document))));
  });

  it('refuses changed compressed bytes before inflating them', async () => {
    // Prepare
    const encoded = await encodeDocument(document);
    const chunks = encoded.chunks.map((c) => Uint8Array.from(c));
    chunks[0]![20]! ^= 1;
    // Act
    const decode = decodeDocument(manifestOf(encoded), chunks);
    // Assess
    await expect(decode).rejects.toMatchObject({ constructor: ChecksumMismatchError, stage: 'compressed' });
  });

  it('refuses content whose hash differs from the manifest', async () => {
    // Prepare
    const encoded = await encodeDocument(document);
    const manifest = { ...manifestOf(encoded), sha256: '0'.repeat(64) };
    // Act
    const decode = decodeDocument(manifest, encoded.chunks);
    // Assess
    await expect(decode).rejects.toMatchObject({ constructor: ChecksumMismatchError, stage: 'content' });
  });

  it('refuses to inflate past the size limit', async () => {
    // Prepare
    const encoded = await encodeDocument({ blob: 'x'.repeat(10_000) });
    // Act
    const decode = decodeDocument(manifestOf(encoded), encoded.chunks, 1000);
    // Assess
    await expect(decode).rejects.toBeInstanceOf(SnapshotTooLargeError);
  });

  it('refuses a value with no JSON form', async () => {
    // Act
    const encode = encodeDocument(undefined);
    // Assess
    await expect(encode).rejects.toBeInstanceOf(InvalidSnapshotJsonError);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    // Prepare
    const value = { a: { b: [{ c: 1 }] } };
    // Act
    deepFreeze(value);
    // Assess
    expect(Object.isFrozen(value.a.b[0])).toBe(true);
    expect(Object.isFrozen(value.a.b)).toBe(true);
  });
});

describe('parseJson', () => {
  it('names the source of text that is not JSON', () => {
    // Act
    const parse = () => parseJson('{"a":', 'config.json');
    // Assess
    expect(parse).toThrow(/^config\.json is not valid JSON/);
  });
});
