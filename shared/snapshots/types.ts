/** How a version's content is compressed before it is split into chunks. */
export type Compression = 'gzip' | 'br';

/**
 * The immutable description of one version: what the chunks hold and how to check them.
 * Written after every chunk, so a manifest that exists describes a complete version.
 */
export interface Manifest {
  readonly name: string;
  readonly version: number;
  /** ISO-8601 time the version was written. */
  readonly createdAt: string;
  /** Who or what published it (a user, `lambda:<function>`, `cli`). */
  readonly source: string;
  /** Version of the document's schema (1 for the pipeline configuration). */
  readonly schemaVersion: number;
  /** sha256 (hex) of the document's JSON bytes. */
  readonly sha256: string;
  /** Length of the document's JSON in bytes. */
  readonly bytes: number;
  readonly compression: Compression;
  /** sha256 (hex) of the compressed bytes: checked before inflating anything. */
  readonly compressedSha256: string;
  readonly compressedBytes: number;
  readonly chunkCount: number;
}

/** How an automated rollout grows: add `stepPercent` points, or multiply by `1 + stepPercent / 100`. */
export type RolloutGrowth = 'linear' | 'exponential';

/**
 * An automated rollout's plan and progress, stored with the candidate it moves: the controller raises
 * the percentage every `everyMs`, bakes `bakeMs` at 100%, then promotes; any named alarm in ALARM
 * (during the steps or the bake) rolls the candidate back.
 */
export interface RolloutStrategy {
  readonly growth: RolloutGrowth;
  /** The percentage the rollout started at. */
  readonly canaryPercent: number;
  /** Points added per step (linear), or growth per step in percent of the current share (exponential). */
  readonly stepPercent: number;
  /** Time between steps. */
  readonly everyMs: number;
  /** Time at 100% before the candidate becomes stable; alarms still roll back during it. */
  readonly bakeMs: number;
  /** CloudWatch alarm names watched for the whole rollout. */
  readonly alarms: readonly string[];
  /** ISO-8601 time the rollout started. */
  readonly startedAt: string;
  /** ISO-8601 time of the last step (the start, at first): the next step is due `everyMs` after it. */
  readonly lastStepAt: string;
  /**
   * ISO-8601 time since which the controller has been unable to read some of the alarms (missing,
   * not allowed, CloudWatch failing); cleared when it reads them all again.
   */
  readonly alarmsUnknownSince?: string;
}

/** How the last candidate left the pointer: kept as a record until the next one ends. */
export interface RolloutOutcome {
  readonly version: number;
  readonly outcome: 'promoted' | 'rolled-back';
  /**
   * `baked`: the controller promoted it after the bake; `alarm`: an alarm was in ALARM;
   * `alarms-unknown`: alarms could not be read for too long; `manual`: a person promoted or rolled
   * back; `superseded`: a new stable version was published over it.
   */
  readonly reason: 'baked' | 'alarm' | 'alarms-unknown' | 'manual' | 'superseded';
  /** The alarms that caused a rollback (in ALARM, or unknown). */
  readonly alarms?: readonly string[];
  /** The percentage the candidate was at. */
  readonly percentage: number;
  /** ISO-8601. */
  readonly at: string;
  readonly by: string;
}

/** A staged rollout: callers selected by rules and a percentage get `version` instead of stable. */
export interface Rollout {
  readonly version: number;
  /** Share of matching callers, 0-100 (two decimals count). */
  readonly percentage: number;
  /**
   * Attribute rules: a caller matches when, for every attribute named here, its value is one of
   * the listed ones. No rules: every caller matches.
   * @example { region: ['eu-west-1'], model: ['m-7', 'm-8'] }
   */
  readonly match?: Readonly<Record<string, readonly string[]>>;
  /** Set when the rollout is automated: the controller moves it (readers ignore it). */
  readonly strategy?: RolloutStrategy;
}

/** The per-name pointer: which versions readers should serve. Every change is a new generation. */
export interface Pointer {
  readonly name: string;
  /** Starts at 1 and grows by one on every flip (publish, promote, rollback). */
  readonly generation: number;
  readonly stable: number;
  readonly candidate?: Rollout;
  /** How the last candidate ended (promoted or rolled back, and why). */
  readonly lastRollout?: RolloutOutcome;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** One loaded version, deeply frozen. The reader hands out the same object until the version changes. */
export interface Snapshot<T = unknown> {
  readonly name: string;
  readonly version: number;
  readonly createdAt: string;
  readonly source: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly data: T;
}

import type { Deadline } from '../core/deadline.ts';

export type { Deadline };

/** The JSON Schema of one snapshot name, as stored (item `sk = schema`). */
export interface DocumentSchemaRecord {
  readonly name: string;
  /** The schema's JSON text, exactly as set. */
  readonly schema: string;
  /** sha256 (hex) of `schema`. */
  readonly sha256: string;
  /** ISO-8601. */
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/**
 * Where versions and pointers live. `DynamoDbSnapshotStore` is the real one; the contract is what
 * publisher and reader rely on.
 */
export interface SnapshotStore {
  /** Strongly consistent read of the pointer; `undefined` when nothing was published. */
  getPointer(name: string): Promise<Pointer | undefined>;
  /** A fresh, never-used version number for `name`. */
  allocateVersion(name: string): Promise<number>;
  /** Writes every chunk, then the manifest (which must not exist yet). */
  putVersion(
    manifest: Manifest,
    chunks: readonly Uint8Array[],
    options?: { deadline?: Deadline },
  ): Promise<void>;
  getManifest(name: string, version: number): Promise<Manifest | undefined>;
  /** The chunks in order; throws `MissingChunkError` for a missing one. */
  getChunks(manifest: Manifest): Promise<Uint8Array[]>;
  /** Every manifest of `name`, newest first. */
  listManifests(name: string): Promise<Manifest[]>;
  /**
   * Writes `next` if the stored pointer is still at `expectedGeneration` (`undefined`: no pointer yet)
   * and every version it names exists. Throws `SnapshotConflictError` or `SnapshotVersionNotFoundError`.
   */
  swapPointer(next: Pointer, expectedGeneration: number | undefined): Promise<void>;
  /** The JSON Schema documents of `name` must satisfy at publish; `undefined` when none is set. */
  getSchema(name: string): Promise<DocumentSchemaRecord | undefined>;
  /** Sets (replaces) the JSON Schema of `name`. */
  putSchema(record: DocumentSchemaRecord): Promise<void>;
  /** Removes the JSON Schema of `name`; resolves `false` when there was none. */
  deleteSchema(name: string): Promise<boolean>;
  /**
   * Deletes a version, unless the pointer names it (then `SnapshotVersionInUseError`): the manifest
   * first, so a half-deleted version is never visible, then its chunks.
   */
  deleteVersion(manifest: Manifest): Promise<void>;
}
