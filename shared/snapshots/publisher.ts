import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  functionOption,
  integerOption,
  numberOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
} from '../core/options.ts';
import { encodeDocument } from './codec.ts';
import {
  InvalidRolloutError,
  InvalidSnapshotNameError,
  SnapshotConflictError,
  SnapshotNotFoundError,
  SnapshotVersionInUseError,
  SnapshotVersionNotFoundError,
} from './errors.ts';
import { type LoadedVersion, loadVersion } from './load.ts';
import {
  automatedPointer,
  manualPointer,
  nextPointer,
  type PointerChange,
  promotedPointer,
  rolledBackPointer,
  superseded,
} from './pointer.ts';
import { checkPercentage } from './rollout.ts';
import { SnapshotSchemas } from './schemas.ts';
import { SNAPSHOT_NAME_PATTERN, snapshotSettings } from './settings.ts';
import { planStrategy, type RolloutStrategyRequest } from './strategy.ts';
import type { Compression, Deadline, Manifest, Pointer, Rollout, SnapshotStore } from './types.ts';

export interface SnapshotPublisherOptions {
  readonly store: SnapshotStore;
  /**
   * Validates a document and returns what to publish (e.g. with defaults filled in); throws to
   * reject it. A rejected document is never written.
   * @default accepts any JSON value
   */
  readonly validate?: (document: unknown) => unknown;
  /** Recorded in each manifest. @default 1 */
  readonly schemaVersion?: number;
  /** @default 'br' (see `EncodeOptions.compression`) */
  readonly compression?: Compression;
  /** @default snapshotSettings.chunkBytes (350,000) */
  readonly chunkBytes?: number;
  /** @default snapshotSettings.maxDocumentBytes (64 MiB) */
  readonly maxBytes?: number;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/** Largest `chunkBytes`: a chunk item also holds its keys and attribute names, under DynamoDB's 400 KiB. */
const MAX_CHUNK_BYTES = 400_000;

/** `SnapshotPublisherOptions` checked, with the defaults documented there applied. */
export const SnapshotPublisherOptionsSchema = z.object({
  store: objectOption<SnapshotStore>('a SnapshotStore'),
  validate: functionOption<(document: unknown) => unknown>().default(() => (document: unknown) => document),
  schemaVersion: integerOption(1).default(1),
  compression: z.enum(['br', 'gzip'], { error: "'br' or 'gzip'" }).default('br'),
  chunkBytes: integerOption(1, MAX_CHUNK_BYTES).default(snapshotSettings.chunkBytes),
  maxBytes: integerOption(1).default(snapshotSettings.maxDocumentBytes),
  clock: functionOption<() => Date>().default(() => () => new Date()),
}) satisfies OptionsSchema<SnapshotPublisherOptions>;

/** A staged rollout request: the new version goes to `percentage` of the callers that `match`. */
export interface RolloutRequest {
  readonly percentage: number;
  readonly match?: Readonly<Record<string, readonly string[]>>;
  /**
   * Automate it from `percentage` (the canary): the rollout controller steps it to 100%, bakes, and
   * promotes, or rolls it back on an alarm. Not with `match`. @default moved by hand
   */
  readonly strategy?: RolloutStrategyRequest;
}

export interface PublishOptions {
  /** Who publishes (user, `lambda:<name>`, `cli`). @default 'unknown' */
  readonly source?: string;
  /**
   * The pointer this change is based on (`null`: expects that nothing was published yet). The flip
   * fails with `SnapshotConflictError` if the pointer moved since. @default the pointer read when
   * `publish` starts
   */
  readonly basedOn?: Pointer | null;
  /** Publish as a candidate beside the current stable version instead of replacing it. */
  readonly rollout?: RolloutRequest;
  /** Stop retrying chunk writes after this point in time. */
  readonly deadline?: Deadline;
}

export interface PublishResult {
  readonly manifest: Manifest;
  readonly pointer: Pointer;
}

/** What `update`'s function sees: the current pointer and its stable document (none before the first publish). */
export interface CurrentVersion extends LoadedVersion {
  readonly pointer: Pointer;
}

export interface UpdateOptions extends Omit<PublishOptions, 'basedOn'> {
  /** Attempts when racing other publishers; each rebases on the winner. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff wait between attempts (full jitter, doubling). @default 50 */
  readonly baseDelayMs?: number;
}

/** The retry settings of `UpdateOptions`, checked, with their defaults. */
const UpdateRetrySchema = z.object({
  maxAttempts: integerOption(1).default(snapshotSettings.publisher.maxAttempts),
  baseDelayMs: numberOption(0).default(50),
});

const PruneSchema = z.object({ keep: integerOption(0) });

/**
 * Publishes immutable snapshot versions and moves the per-name pointer with conditional writes:
 * chunks and manifest first, the pointer last, so readers see either the old or the new version.
 *
 * @example
 * const publisher = new SnapshotPublisher({ store, validate: parsePipelineConfig });
 * await publisher.publish('pipeline', config, { source: 'cli', rollout: { percentage: 10 } });
 */
export class SnapshotPublisher {
  readonly store: SnapshotStore;
  /** The JSON Schema of each name, checked by every publish. */
  readonly schemas: SnapshotSchemas;
  private readonly validate: (document: unknown) => unknown;
  private readonly schemaVersion: number;
  private readonly compression: Compression;
  private readonly chunkBytes: number;
  private readonly maxBytes: number;
  private readonly clock: () => Date;

  /** @throws InvalidOptionError when an option is out of range (the message names it and the rule). */
  constructor(options: SnapshotPublisherOptions) {
    const resolved = parseOptions('SnapshotPublisher', SnapshotPublisherOptionsSchema, options);
    this.store = resolved.store;
    this.validate = resolved.validate;
    this.schemaVersion = resolved.schemaVersion;
    this.compression = resolved.compression;
    this.chunkBytes = resolved.chunkBytes;
    this.maxBytes = resolved.maxBytes;
    this.clock = resolved.clock;
    this.schemas = new SnapshotSchemas(this.store, this.clock);
  }

  /**
   * Validates (with `validate`, then the name's JSON Schema if it has one), writes a new version and
   * flips the pointer to it (or makes it the candidate of a staged rollout). A document either check
   * rejects is never written. Throws `SnapshotConflictError` when another publisher moved the
   * pointer first; the version written is then deleted again.
   */
  async publish(name: string, document: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    checkName(name);
    const valid = this.validate(document);
    await this.schemas.check(name, valid);
    const rollout = options.rollout && this.rolloutOf(options.rollout);
    const encoded = await encodeDocument(valid, {
      compression: this.compression,
      chunkBytes: this.chunkBytes,
      maxBytes: this.maxBytes,
    });
    const base = options.basedOn === undefined ? await this.store.getPointer(name) : options.basedOn;
    if (rollout && !base) {
      throw new InvalidRolloutError(
        `snapshot "${name}" has no stable version to roll out beside; publish one first`,
      );
    }
    const source = options.source ?? 'unknown';
    const version = await this.store.allocateVersion(name);
    const manifest: Manifest = {
      name,
      version,
      createdAt: this.clock().toISOString(),
      source,
      schemaVersion: this.schemaVersion,
      sha256: encoded.sha256,
      bytes: encoded.bytes,
      compression: encoded.compression,
      compressedSha256: encoded.compressedSha256,
      compressedBytes: encoded.compressedBytes,
      chunkCount: encoded.chunks.length,
    };
    await this.store.putVersion(manifest, encoded.chunks, { deadline: options.deadline });
    const change = { at: this.clock(), by: source };
    const pointer: Pointer = rollout
      ? nextPointer(
          name,
          base!,
          {
            stable: base!.stable,
            candidate: { version, ...startedAt(rollout, change) },
            ...superseded(base!, change),
          },
          change,
        )
      : nextPointer(name, base ?? undefined, { stable: version, ...superseded(base, change) }, change);
    try {
      await this.store.swapPointer(pointer, base?.generation);
    } catch (error) {
      if (error instanceof SnapshotConflictError) {
        // Nobody can name this version yet: remove it rather than leave an orphan behind.
        await this.store.deleteVersion(manifest).catch(() => undefined);
      }
      throw error;
    }
    return { manifest, pointer };
  }

  /**
   * The check a document must pass to be published under `name` now: `validate`, then the name's
   * JSON Schema (read once, here). For callers that check changes one by one before publishing
   * (the config-changes Lambda); `publish` checks again.
   */
  async documentCheck(name: string): Promise<(document: unknown) => unknown> {
    checkName(name);
    const schema = await this.schemas.checkFor(name);
    return (document) => {
      const valid = this.validate(document);
      schema?.(valid);
      return valid;
    };
  }

  /**
   * Read-modify-publish with rebase: reads the current stable document, lets `change` derive the
   * next one (return `undefined` to publish nothing) and publishes it based on what was read. On
   * a conflict it starts again from the winner's version, up to `maxAttempts` times.
   *
   * @throws InvalidOptionError when `maxAttempts` or `baseDelayMs` is out of range.
   */
  async update(
    name: string,
    change: (current: CurrentVersion | undefined, attempt: number) => unknown,
    options: UpdateOptions = {},
  ): Promise<PublishResult | undefined> {
    const { maxAttempts, baseDelayMs } = parseOptions('SnapshotPublisher.update', UpdateRetrySchema, {
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.baseDelayMs,
    });
    for (let attempt = 1; ; attempt++) {
      const pointer = await this.store.getPointer(name);
      const current = pointer && {
        pointer,
        ...(await loadVersion(this.store, name, pointer.stable, this.maxBytes)),
      };
      const next = change(current, attempt);
      if (next === undefined) return undefined;
      try {
        return await this.publish(name, next, { ...options, basedOn: pointer ?? null });
      } catch (error) {
        if (!(error instanceof SnapshotConflictError) || attempt >= maxAttempts) throw error;
        await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  /** Reads and verifies one version (the stable one by default). */
  async read(name: string, version?: number): Promise<LoadedVersion & { pointer: Pointer | undefined }> {
    const pointer = await this.store.getPointer(name);
    if (version === undefined && pointer === undefined) throw new SnapshotNotFoundError(name);
    const loaded = await loadVersion(this.store, name, version ?? pointer!.stable, this.maxBytes);
    return { ...loaded, pointer };
  }

  /**
   * Moves a staged rollout on: to `percentage` of the matching callers, or (no percentage, or 100)
   * makes the candidate the stable version. A partial promote keeps an automated rollout's
   * strategy: the controller steps on from the new percentage.
   */
  async promote(name: string, options: { percentage?: number; source?: string } = {}): Promise<Pointer> {
    const base = await this.currentPointer(name);
    const percentage = options.percentage === undefined ? 100 : checkPercentage(options.percentage);
    return this.move(base, promotedPointer(base, percentage, this.change(options.source)));
  }

  /** Points every reader at an earlier (or any existing) version again, ending any rollout. */
  async rollback(name: string, to: number, options: { source?: string } = {}): Promise<Pointer> {
    const base = await this.currentPointer(name);
    if ((await this.store.getManifest(name, to)) === undefined)
      throw new SnapshotVersionNotFoundError(name, to);
    return this.move(base, rolledBackPointer(base, to, this.change(options.source)));
  }

  /**
   * Automates the current candidate from its percentage (the canary): the rollout controller takes
   * it from here. Replaces a strategy it already has (its timers start again). Throws
   * `InvalidRolloutError` without a candidate, `InvalidRolloutStrategyError` for a bad strategy.
   */
  async startRollout(
    name: string,
    strategy: RolloutStrategyRequest,
    options: { source?: string } = {},
  ): Promise<Pointer> {
    const base = await this.currentPointer(name);
    return this.move(base, automatedPointer(base, strategy, this.change(options.source)));
  }

  /** Stops automating the candidate: it stays at its percentage, moved by hand from now on. */
  async stopRollout(name: string, options: { source?: string } = {}): Promise<Pointer> {
    const base = await this.currentPointer(name);
    return this.move(base, manualPointer(base, this.change(options.source)));
  }

  /** The pointer and every version's manifest, newest first. */
  async list(name: string): Promise<{ pointer: Pointer | undefined; manifests: Manifest[] }> {
    const [pointer, manifests] = await Promise.all([
      this.store.getPointer(name),
      this.store.listManifests(name),
    ]);
    return { pointer, manifests };
  }

  /**
   * Deletes all but the newest `keep` versions, never the stable or candidate one (the store
   * re-checks that atomically with each delete). Resolves with the versions deleted.
   *
   * @throws InvalidOptionError when `keep` is not a whole number ≥ 0.
   */
  async prune(name: string, keep: number): Promise<number[]> {
    parseOptions('SnapshotPublisher.prune', PruneSchema, { keep });
    const { pointer, manifests } = await this.list(name);
    const inUse = new Set([pointer?.stable, pointer?.candidate?.version]);
    const deleted: number[] = [];
    for (const manifest of manifests.slice(keep)) {
      if (inUse.has(manifest.version)) continue;
      try {
        await this.store.deleteVersion(manifest);
        deleted.push(manifest.version);
      } catch (error) {
        // The pointer moved onto it since we listed: keeping it is the safe outcome.
        if (!(error instanceof SnapshotVersionInUseError)) throw error;
      }
    }
    return deleted;
  }

  private async currentPointer(name: string): Promise<Pointer> {
    checkName(name);
    const pointer = await this.store.getPointer(name);
    if (pointer === undefined) throw new SnapshotNotFoundError(name);
    return pointer;
  }

  private async move(base: Pointer, next: Pointer): Promise<Pointer> {
    await this.store.swapPointer(next, base.generation);
    return next;
  }

  private change(source = 'unknown'): PointerChange {
    return { at: this.clock(), by: source };
  }

  private rolloutOf(request: RolloutRequest): Omit<Rollout, 'version'> {
    const percentage = checkPercentage(request.percentage);
    const match = request.match && Object.keys(request.match).length > 0 ? { match: request.match } : {};
    const strategy = request.strategy && {
      strategy: planStrategy(percentage, request.strategy, this.clock(), request.match),
    };
    return { percentage, ...match, ...strategy };
  }
}

/** A planned strategy's clocks start when the candidate is published, not when the request was checked. */
function startedAt(rollout: Omit<Rollout, 'version'>, change: PointerChange): Omit<Rollout, 'version'> {
  if (rollout.strategy === undefined) return rollout;
  const at = change.at.toISOString();
  return { ...rollout, strategy: { ...rollout.strategy, startedAt: at, lastStepAt: at } };
}

function checkName(name: string): void {
  if (!SNAPSHOT_NAME_PATTERN.test(name)) throw new InvalidSnapshotNameError(name);
}
