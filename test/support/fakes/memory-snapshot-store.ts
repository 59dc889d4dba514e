import {
  MissingChunkError,
  SnapshotConflictError,
  SnapshotVersionInUseError,
  SnapshotVersionNotFoundError,
} from '../../../shared/snapshots/errors.ts';
import type {
  DocumentSchemaRecord,
  Manifest,
  Pointer,
  SnapshotStore,
} from '../../../shared/snapshots/types.ts';

type Method = keyof SnapshotStore;

/**
 * The `SnapshotStore` contract in memory, with the same conditional semantics as the DynamoDB
 * store, call counters and injectable faults: unit tests of publisher, reader and Lambda core.
 */
export class MemorySnapshotStore implements SnapshotStore {
  readonly pointers = new Map<string, Pointer>();
  readonly manifests = new Map<string, Manifest>();
  readonly chunks = new Map<string, Uint8Array>();
  readonly schemas = new Map<string, DocumentSchemaRecord>();
  readonly calls: Record<Method, number> = {
    getPointer: 0,
    allocateVersion: 0,
    putVersion: 0,
    getManifest: 0,
    getChunks: 0,
    listManifests: 0,
    swapPointer: 0,
    deleteVersion: 0,
    getSchema: 0,
    putSchema: 0,
    deleteSchema: 0,
  };
  private readonly sequences = new Map<string, number>();
  private readonly faults = new Map<Method, Array<() => Error | undefined>>();
  /** Runs before each call resolves (after the fault check): lets a test act "during" a call. */
  beforeResolve: ((method: Method) => Promise<void> | void) | undefined;

  /** The next call of `method` throws what `fault` returns (nothing: the call goes through). */
  failNext(method: Method, fault: () => Error | undefined): void {
    const list = this.faults.get(method) ?? [];
    list.push(fault);
    this.faults.set(method, list);
  }

  async getPointer(name: string): Promise<Pointer | undefined> {
    await this.enter('getPointer');
    return this.pointers.get(name);
  }

  async allocateVersion(name: string): Promise<number> {
    await this.enter('allocateVersion');
    const next = (this.sequences.get(name) ?? 0) + 1;
    this.sequences.set(name, next);
    return next;
  }

  async putVersion(manifest: Manifest, chunks: readonly Uint8Array[]): Promise<void> {
    await this.enter('putVersion');
    chunks.forEach((bytes, i) => {
      this.chunks.set(chunkKey(manifest.name, manifest.version, i), Uint8Array.from(bytes));
    });
    const key = manifestKey(manifest.name, manifest.version);
    if (this.manifests.has(key)) throw new Error(`manifest ${key} exists`);
    this.manifests.set(key, manifest);
  }

  async getManifest(name: string, version: number): Promise<Manifest | undefined> {
    await this.enter('getManifest');
    return this.manifests.get(manifestKey(name, version));
  }

  async getChunks(manifest: Manifest): Promise<Uint8Array[]> {
    await this.enter('getChunks');
    return Array.from({ length: manifest.chunkCount }, (_, i) => {
      const bytes = this.chunks.get(chunkKey(manifest.name, manifest.version, i));
      if (bytes === undefined)
        throw new MissingChunkError(manifest.name, manifest.version, i, manifest.chunkCount);
      return bytes;
    });
  }

  async listManifests(name: string): Promise<Manifest[]> {
    await this.enter('listManifests');
    return [...this.manifests.values()].filter((m) => m.name === name).sort((a, b) => b.version - a.version);
  }

  async swapPointer(next: Pointer, expectedGeneration: number | undefined): Promise<void> {
    await this.enter('swapPointer');
    const current = this.pointers.get(next.name);
    if (current?.generation !== expectedGeneration) {
      throw new SnapshotConflictError(next.name, expectedGeneration, current?.generation);
    }
    for (const version of [next.stable, next.candidate?.version]) {
      if (version !== undefined && !this.manifests.has(manifestKey(next.name, version))) {
        throw new SnapshotVersionNotFoundError(next.name, version);
      }
    }
    this.pointers.set(next.name, next);
  }

  async getSchema(name: string): Promise<DocumentSchemaRecord | undefined> {
    await this.enter('getSchema');
    return this.schemas.get(name);
  }

  async putSchema(record: DocumentSchemaRecord): Promise<void> {
    await this.enter('putSchema');
    this.schemas.set(record.name, record);
  }

  async deleteSchema(name: string): Promise<boolean> {
    await this.enter('deleteSchema');
    return this.schemas.delete(name);
  }

  async deleteVersion(manifest: Manifest): Promise<void> {
    await this.enter('deleteVersion');
    const pointer = this.pointers.get(manifest.name);
    if (pointer?.stable === manifest.version || pointer?.candidate?.version === manifest.version) {
      throw new SnapshotVersionInUseError(manifest.name, manifest.version);
    }
    this.manifests.delete(manifestKey(manifest.name, manifest.version));
    for (let i = 0; i < manifest.chunkCount; i++)
      this.chunks.delete(chunkKey(manifest.name, manifest.version, i));
  }

  /** Flips one byte of a stored chunk. */
  tamper(name: string, version: number, index = 0): void {
    const bytes = this.chunks.get(chunkKey(name, version, index))!;
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
  }

  /** Versions that still have at least one chunk stored. */
  versionsWithChunks(name: string): number[] {
    const versions = new Set<number>();
    for (const key of this.chunks.keys()) {
      const [chunkName, version] = key.split('\u0000');
      if (chunkName === name) versions.add(Number(version));
    }
    return [...versions].sort((a, b) => b - a);
  }

  removeChunk(name: string, version: number, index = 0): void {
    this.chunks.delete(chunkKey(name, version, index));
  }

  private async enter(method: Method): Promise<void> {
    this.calls[method]++;
    await Promise.resolve();
    const fault = this.faults.get(method)?.shift()?.();
    if (fault) throw fault;
    await this.beforeResolve?.(method);
  }
}

function manifestKey(name: string, version: number): string {
  return `${name}\u0000${version}`;
}

function chunkKey(name: string, version: number, index: number): string {
  return `${name}\u0000${version}\u0000${index}`;
}
