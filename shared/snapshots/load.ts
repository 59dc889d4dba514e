import { decodeDocument } from './codec.ts';
import { SnapshotVersionNotFoundError } from './errors.ts';
import { snapshotSettings } from './settings.ts';
import type { Manifest, SnapshotStore } from './types.ts';

/** A version read back from the store and verified: its manifest and the parsed (unfrozen) document. */
export interface LoadedVersion {
  readonly manifest: Manifest;
  readonly data: unknown;
}

/**
 * Reads one version: manifest, then every chunk, then checks both hashes and parses the JSON.
 * Throws `SnapshotVersionNotFoundError`, `MissingChunkError`, `ChecksumMismatchError`,
 * `SnapshotTooLargeError` or `CorruptSnapshotError`.
 */
export async function loadVersion(
  store: SnapshotStore,
  name: string,
  version: number,
  maxBytes: number = snapshotSettings.maxDocumentBytes,
): Promise<LoadedVersion> {
  const manifest = await store.getManifest(name, version);
  if (manifest === undefined) throw new SnapshotVersionNotFoundError(name, version);
  const chunks = await store.getChunks(manifest);
  return { manifest, data: await decodeDocument(manifest, chunks, maxBytes) };
}
