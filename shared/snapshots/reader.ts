import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { PipelineError } from '../core/errors.ts';
import {
  functionOption,
  integerOption,
  numberOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
  textOption,
} from '../core/options.ts';
import { deepFreeze } from './codec.ts';
import {
  PointerRegressedError,
  SnapshotFetchError,
  SnapshotNotFoundError,
  SnapshotNotLoadedError,
} from './errors.ts';
import { loadVersion } from './load.ts';
import { SNAPSHOT_READER_METRICS } from './metric-names.ts';
import { type Caller, inRollout } from './rollout.ts';
import { SNAPSHOT_NAME_PATTERN, snapshotSettings } from './settings.ts';
import { DynamoDbSnapshotStore } from './store.ts';
import type { Pointer, Snapshot, SnapshotStore } from './types.ts';

export interface SnapshotReaderOptions<T> {
  readonly store: SnapshotStore;
  /** @default snapshotSettings.defaultName ('pipeline') */
  readonly name?: string;
  /** Validates the document and gives it its type; a document it rejects is never adopted. @default none */
  readonly parse?: (document: unknown) => T;
  /** Check the pointer again once the snapshot is this old. @default snapshotSettings.maxAgeMs (30 s) */
  readonly maxAgeMs?: number;
  /** After a failed refresh, try again this soon. @default the smaller of 1 s and `maxAgeMs` */
  readonly retryAfterErrorMs?: number;
  /** Whose side of a staged rollout `get()` returns. @default none: `get()` returns the stable version */
  readonly caller?: Caller;
  /**
   * Served as version 0 while nothing has been published under `name` (e.g. routing from the
   * environment); the first published version replaces it.
   * @default none: `load()` throws `SnapshotNotFoundError`
   */
  readonly bootstrap?: T;
  /** @default snapshotSettings.maxDocumentBytes (64 MiB) */
  readonly maxBytes?: number;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  /** Gets `SnapshotRefreshFailed` (count) and `SnapshotStaleAge` (seconds) while serving a stale snapshot. */
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  /** Monotonic milliseconds. @default performance.now */
  readonly clock?: () => number;
}

/** Longest delay `setTimeout` keeps (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;
const NAME_RULE = 'a snapshot name of 1-64 characters of A-Z a-z 0-9 _ . -';

/**
 * `SnapshotReaderOptions` checked, with the defaults documented there applied (`retryAfterErrorMs`
 * depends on `maxAgeMs` and is resolved in the constructor).
 */
export const SnapshotReaderOptionsSchema = z.object({
  store: objectOption<SnapshotStore>('a SnapshotStore'),
  name: z
    .string({ error: NAME_RULE })
    .regex(SNAPSHOT_NAME_PATTERN, { error: NAME_RULE })
    .default(snapshotSettings.defaultName),
  parse: functionOption<(document: unknown) => unknown>().optional(),
  maxAgeMs: numberOption(0, MAX_TIMER_MS).default(snapshotSettings.maxAgeMs),
  retryAfterErrorMs: numberOption(0, MAX_TIMER_MS).optional(),
  caller: z
    .object({
      key: textOption('a non-empty caller key'),
      attributes: z.record(z.string(), z.string({ error: 'a string attribute value' })).optional(),
    })
    .optional(),
  bootstrap: z.unknown().optional(),
  maxBytes: integerOption(1).default(snapshotSettings.maxDocumentBytes),
  logger: objectOption<Pick<Logger, 'info' | 'warn'>>('a logger with info() and warn()').optional(),
  metrics: objectOption<Pick<Metrics, 'addMetric'>>('a Powertools Metrics instance').optional(),
  clock: functionOption<() => number>().default(() => () => performance.now()),
}) satisfies OptionsSchema<SnapshotReaderOptions<unknown>>;

/** What one refresh did. It never rejects once a snapshot is loaded: failures come back as `stale`. */
export type RefreshOutcome =
  | { readonly status: 'unchanged'; readonly generation: number }
  | { readonly status: 'updated'; readonly generation: number; readonly fetched: readonly number[] }
  | { readonly status: 'stale'; readonly error: PipelineError; readonly ageMs: number };

export interface ReaderStatus {
  readonly name: string;
  /** Adopted pointer generation (0: bootstrap document); `undefined` before the first load. */
  readonly generation: number | undefined;
  readonly stableVersion: number | undefined;
  readonly candidateVersion: number | undefined;
  /** Milliseconds since the pointer was last confirmed; grows while refreshes fail. */
  readonly ageMs: number | undefined;
  /** Why the last refresh failed; cleared by a successful one. */
  readonly lastError: PipelineError | undefined;
}

interface State<T> {
  readonly pointer: Pointer | undefined;
  readonly generation: number;
  readonly stable: Snapshot<T>;
  readonly candidate: Snapshot<T> | undefined;
}

/**
 * Holds a snapshot like an atomic value: `get()` is synchronous and returns the same frozen object
 * until a new version is adopted. Past `maxAgeMs` one strongly consistent read of the pointer
 * decides whether anything changed; chunks are fetched only for a new version, and verified before
 * the swap. One refresh runs at a time; a failed one keeps the last good snapshot (stale-if-error).
 *
 * @example
 * const reader = createSnapshotReader({ client, tableName, parse: parsePipelineConfig });
 * await reader.load();
 * const { routing } = reader.get().data;
 */
export class SnapshotReader<T = unknown> {
  readonly name: string;
  private readonly store: SnapshotStore;
  private readonly parse: (document: unknown) => T;
  private readonly maxAgeMs: number;
  private readonly retryAfterErrorMs: number;
  private readonly caller: Caller | undefined;
  private readonly bootstrap: T | undefined;
  private readonly maxBytes: number;
  private readonly logger: Pick<Logger, 'info' | 'warn'> | undefined;
  private readonly metrics: Pick<Metrics, 'addMetric'> | undefined;
  private readonly clock: () => number;

  /** What `get()` returns: the only field it reads on the fast path. */
  private assigned: Snapshot<T> | undefined;
  /** Set by the expiry timer; `get()` then starts a refresh in the background. */
  private expired = false;
  private state: State<T> | undefined;
  private inFlight: Promise<RefreshOutcome> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshDueAt = Number.NEGATIVE_INFINITY;
  private confirmedAt: number | undefined;
  private lastError: PipelineError | undefined;
  private autoRefresh = false;

  /** @throws InvalidOptionError when an option is out of range (the message names it and the rule). */
  constructor(options: SnapshotReaderOptions<T>) {
    const resolved = parseOptions('SnapshotReader', SnapshotReaderOptionsSchema, options);
    this.store = resolved.store;
    this.name = resolved.name;
    this.parse = (resolved.parse ?? ((document) => document)) as (document: unknown) => T;
    this.maxAgeMs = resolved.maxAgeMs;
    this.retryAfterErrorMs = resolved.retryAfterErrorMs ?? Math.min(1000, this.maxAgeMs);
    this.caller = resolved.caller;
    this.bootstrap = resolved.bootstrap as T | undefined;
    this.maxBytes = resolved.maxBytes;
    this.logger = resolved.logger;
    this.metrics = resolved.metrics;
    this.clock = resolved.clock;
  }

  /**
   * The current snapshot (this reader's side of a rollout). Synchronous; throws
   * `SnapshotNotLoadedError` before the first `load()`. Past max age it starts a background refresh
   * and still returns the current snapshot at once.
   */
  get(): Snapshot<T> {
    const snapshot = this.assigned;
    if (snapshot === undefined) throw new SnapshotNotLoadedError(this.name);
    if (this.expired) void this.refresh();
    return snapshot;
  }

  /** The version `caller` gets under the current staged rollout (stable when there is none). */
  getFor(caller: Caller): Snapshot<T> {
    const state = this.state;
    if (state === undefined) throw new SnapshotNotLoadedError(this.name);
    if (this.expired) void this.refresh();
    const rollout = state.pointer?.candidate;
    if (state.candidate === undefined || rollout === undefined) return state.stable;
    return inRollout(this.name, rollout, caller) ? state.candidate : state.stable;
  }

  /**
   * Loads the first snapshot (throws if it cannot), or returns the current one. After a failed
   * first load, calls within `retryAfterErrorMs` get the same error without another request.
   */
  async load(): Promise<Snapshot<T>> {
    if (this.assigned === undefined) await this.firstLoad();
    return this.assigned!;
  }

  /** For request handlers: loads, or refreshes first when the snapshot is past max age. */
  async ready(): Promise<Snapshot<T>> {
    if (this.assigned === undefined) await this.firstLoad();
    else if (this.clock() >= this.refreshDueAt) await this.refresh();
    return this.assigned!;
  }

  /**
   * Checks the pointer now and adopts a new version if there is one. Concurrent calls share one
   * refresh. Rejects only while nothing has been loaded yet.
   */
  refresh(): Promise<RefreshOutcome> {
    this.inFlight ??= this.runRefresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** For long-running workers: refresh on a timer every `maxAgeMs`, not only when `get()` notices. */
  start(): this {
    this.autoRefresh = true;
    if (this.timer === undefined && this.inFlight === undefined) void this.refresh().catch(() => undefined);
    return this;
  }

  /** Stops the timer; `get()` keeps returning the last snapshot. */
  stop(): void {
    this.autoRefresh = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  status(): ReaderStatus {
    const state = this.state;
    return {
      name: this.name,
      generation: state?.generation,
      stableVersion: state?.stable.version,
      candidateVersion: state?.candidate?.version,
      ageMs: this.confirmedAt === undefined ? undefined : this.clock() - this.confirmedAt,
      lastError: this.lastError,
    };
  }

  private async firstLoad(): Promise<void> {
    if (this.inFlight === undefined && this.lastError !== undefined && this.clock() < this.refreshDueAt) {
      throw this.lastError;
    }
    await this.refresh();
  }

  private async runRefresh(): Promise<RefreshOutcome> {
    this.expired = false;
    clearTimeout(this.timer);
    try {
      const outcome = await this.fetchAndAdopt();
      this.confirmedAt = this.clock();
      this.lastError = undefined;
      this.schedule(this.maxAgeMs);
      return outcome;
    } catch (caught) {
      const error =
        caught instanceof PipelineError ? caught : new SnapshotFetchError(this.name, { cause: caught });
      this.lastError = error;
      this.schedule(this.retryAfterErrorMs);
      if (this.state === undefined) throw error;
      return this.reportStale(error);
    }
  }

  private async fetchAndAdopt(): Promise<RefreshOutcome> {
    const current = this.state;
    let pointer: Pointer | undefined;
    try {
      pointer = await this.store.getPointer(this.name);
    } catch (cause) {
      throw cause instanceof PipelineError ? cause : new SnapshotFetchError(this.name, { cause });
    }
    if (pointer === undefined) {
      if (current?.generation === 0) return { status: 'unchanged', generation: 0 };
      if (current === undefined && this.bootstrap !== undefined) return this.adoptBootstrap();
      throw new SnapshotNotFoundError(this.name);
    }
    if (current !== undefined) {
      if (pointer.generation < current.generation) {
        throw new PointerRegressedError(this.name, pointer.generation, current.generation);
      }
      if (pointer.generation === current.generation)
        return { status: 'unchanged', generation: current.generation };
    }
    const known = new Map<number, Snapshot<T>>();
    for (const snapshot of [current?.stable, current?.candidate]) {
      if (snapshot !== undefined && snapshot.version > 0) known.set(snapshot.version, snapshot);
    }
    const fetched: number[] = [];
    const obtain = async (version: number): Promise<Snapshot<T>> => {
      const have = known.get(version);
      if (have !== undefined) return have;
      fetched.push(version);
      return this.fetchVersion(version);
    };
    const [stable, candidate] = await Promise.all([
      obtain(pointer.stable),
      pointer.candidate === undefined ? undefined : obtain(pointer.candidate.version),
    ]);
    this.adopt({ pointer, generation: pointer.generation, stable, candidate });
    this.logger?.info('adopted snapshot', {
      snapshot: this.name,
      generation: pointer.generation,
      stableVersion: stable.version,
      candidateVersion: candidate?.version,
      fetched,
    });
    return { status: 'updated', generation: pointer.generation, fetched };
  }

  private async fetchVersion(version: number): Promise<Snapshot<T>> {
    let loaded: Awaited<ReturnType<typeof loadVersion>>;
    try {
      loaded = await loadVersion(this.store, this.name, version, this.maxBytes);
    } catch (cause) {
      throw cause instanceof PipelineError ? cause : new SnapshotFetchError(this.name, { cause });
    }
    const { manifest } = loaded;
    return Object.freeze({
      name: this.name,
      version: manifest.version,
      createdAt: manifest.createdAt,
      source: manifest.source,
      sha256: manifest.sha256,
      bytes: manifest.bytes,
      data: deepFreeze(this.parse(loaded.data)),
    });
  }

  private adoptBootstrap(): RefreshOutcome {
    const data = deepFreeze(this.parse(this.bootstrap));
    const stable: Snapshot<T> = Object.freeze({
      name: this.name,
      version: 0,
      createdAt: new Date(0).toISOString(),
      source: 'bootstrap',
      sha256: '',
      bytes: 0,
      data,
    });
    this.adopt({ pointer: undefined, generation: 0, stable, candidate: undefined });
    this.logger?.info('no snapshot published yet; serving the bootstrap document', { snapshot: this.name });
    return { status: 'updated', generation: 0, fetched: [] };
  }

  private adopt(state: State<T>): void {
    this.state = state;
    const rollout = state.pointer?.candidate;
    this.assigned =
      state.candidate !== undefined && rollout !== undefined && this.caller !== undefined
        ? inRollout(this.name, rollout, this.caller)
          ? state.candidate
          : state.stable
        : state.stable;
  }

  private reportStale(error: PipelineError): RefreshOutcome {
    const ageMs = this.confirmedAt === undefined ? 0 : this.clock() - this.confirmedAt;
    this.logger?.warn('snapshot refresh failed; serving the last good snapshot', {
      snapshot: this.name,
      generation: this.state?.generation,
      version: this.assigned?.version,
      ageMs: Math.round(ageMs),
      errorCode: error.code,
      error,
    });
    this.metrics?.addMetric(SNAPSHOT_READER_METRICS.SnapshotRefreshFailed, MetricUnit.Count, 1);
    this.metrics?.addMetric(SNAPSHOT_READER_METRICS.SnapshotStaleAge, MetricUnit.Seconds, ageMs / 1000);
    return { status: 'stale', error, ageMs };
  }

  private schedule(delayMs: number): void {
    this.refreshDueAt = this.clock() + delayMs;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expired = true;
      if (this.autoRefresh) void this.refresh().catch(() => undefined);
    }, delayMs);
    // A reader must never keep a process (a CLI, a test, a Lambda runtime) alive on its own.
    this.timer.unref();
  }
}

export interface CreateSnapshotReaderOptions<T> extends Omit<SnapshotReaderOptions<T>, 'store'> {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/**
 * A reader over the DynamoDB store.
 *
 * @example
 * const reader = createSnapshotReader({ client: new DynamoDBClient({}), tableName, parse: parsePipelineConfig });
 */
export function createSnapshotReader<T = unknown>(
  options: CreateSnapshotReaderOptions<T>,
): SnapshotReader<T> {
  const { client, tableName, ...rest } = options;
  return new SnapshotReader<T>({ ...rest, store: new DynamoDbSnapshotStore({ client, tableName }) });
}
