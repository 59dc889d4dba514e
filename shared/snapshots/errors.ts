import { PipelineError } from '../core/errors.ts';

/** Base of every error the snapshots library raises: `catch (e) { if (e instanceof SnapshotError) … }`. */
export abstract class SnapshotError extends PipelineError {}

/** No pointer exists for this snapshot name: nothing was ever published under it. */
export class SnapshotNotFoundError extends SnapshotError {
  readonly code = 'SNAPSHOT_NOT_FOUND';
  constructor(
    readonly snapshot: string,
    options?: ErrorOptions,
  ) {
    super(`snapshot "${snapshot}" has never been published`, options);
  }
}

/** A version that the caller or the pointer names has no manifest (never written, or pruned). */
export class SnapshotVersionNotFoundError extends SnapshotError {
  readonly code = 'SNAPSHOT_VERSION_NOT_FOUND';
  constructor(
    readonly snapshot: string,
    readonly version: number,
    options?: ErrorOptions,
  ) {
    super(`snapshot "${snapshot}" has no version ${version}`, options);
  }
}

/**
 * The pointer moved since the caller read it: another publisher won the race. Rebase on the new
 * pointer (re-read, re-apply the change) and try again.
 */
export class SnapshotConflictError extends SnapshotError {
  readonly code = 'SNAPSHOT_CONFLICT';
  override readonly retryable = true;
  constructor(
    readonly snapshot: string,
    /** Generation the write expected; `undefined` when it expected no pointer at all. */
    readonly expectedGeneration: number | undefined,
    /** Generation found, when DynamoDB returned it. */
    readonly actualGeneration: number | undefined,
    options?: ErrorOptions,
  ) {
    const expected = expectedGeneration === undefined ? 'no pointer' : `generation ${expectedGeneration}`;
    const actual = actualGeneration === undefined ? '' : `; it is at generation ${actualGeneration}`;
    super(`snapshot "${snapshot}" changed concurrently: expected ${expected}${actual}`, options);
  }
}

/** The stored bytes do not hash to what the manifest recorded: tampered or corrupted content. */
export class ChecksumMismatchError extends SnapshotError {
  readonly code = 'CHECKSUM_MISMATCH';
  constructor(
    readonly snapshot: string,
    readonly version: number,
    /** Which bytes: the compressed chunks as stored, or the document after inflating. */
    readonly stage: 'compressed' | 'content',
    readonly expected: string,
    readonly actual: string,
    options?: ErrorOptions,
  ) {
    super(
      `snapshot "${snapshot}" version ${version}: ${stage} sha256 is ${actual.slice(0, 12)}…, ` +
        `the manifest says ${expected.slice(0, 12)}…`,
      options,
    );
  }
}

/** A chunk item the manifest lists is missing (deleted, or the version is half-pruned). */
export class MissingChunkError extends SnapshotError {
  readonly code = 'MISSING_CHUNK';
  constructor(
    readonly snapshot: string,
    readonly version: number,
    readonly index: number,
    readonly chunkCount: number,
    options?: ErrorOptions,
  ) {
    super(`snapshot "${snapshot}" version ${version}: chunk ${index} of ${chunkCount} is missing`, options);
  }
}

/** The document is over the size a publisher accepts or a reader inflates. */
export class SnapshotTooLargeError extends SnapshotError {
  readonly code = 'SNAPSHOT_TOO_LARGE';
  constructor(
    readonly bytes: number,
    readonly limit: number,
    options?: ErrorOptions,
  ) {
    super(`snapshot document is ${bytes} bytes; the limit is ${limit}`, options);
  }
}

/** A stored manifest or pointer item does not have the shape this code writes. */
export class CorruptSnapshotError extends SnapshotError {
  readonly code = 'CORRUPT_SNAPSHOT';
  constructor(
    readonly snapshot: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`snapshot "${snapshot}": ${detail}`, options);
  }
}

/** One place a document breaks its schema: where (a path) and what is wrong there. */
export interface DocumentIssue {
  /** Dotted (the pipeline schema) or a JSON pointer (a JSON Schema: `/routing/items`); `''` is the root. */
  readonly path: string;
  readonly message: string;
}

/**
 * The document does not match its schema; `path` points at the first bad field and `issues` lists
 * every one found (a JSON Schema reports them all; the pipeline schema the first).
 */
export class InvalidSnapshotDocumentError extends SnapshotError {
  readonly code = 'INVALID_SNAPSHOT_DOCUMENT';
  readonly issues: readonly DocumentIssue[];
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions & { readonly issues?: readonly DocumentIssue[] },
  ) {
    super(`${path || '(root)'}: ${detail}`, options);
    this.issues = options?.issues ?? [{ path, message: detail }];
  }
}

/** A JSON Schema that cannot be used: not JSON Schema, an unsupported draft, or one ajv refuses to compile. */
export class InvalidDocumentSchemaError extends SnapshotError {
  readonly code = 'INVALID_DOCUMENT_SCHEMA';
  constructor(
    readonly snapshot: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`JSON Schema for snapshot "${snapshot}": ${detail}`, options);
  }
}

/**
 * A route of the pipeline configuration names a physical table the pipeline is not granted to
 * write (its WritePath `dataTables` plus the items table): publishing it would make the batch writer
 * fail with AccessDenied. `path` is where the table is named, e.g. `routing.orders.tableName`.
 */
export class RouteNotGrantedError extends SnapshotError {
  readonly code = 'ROUTE_NOT_GRANTED';
  constructor(
    readonly tableName: string,
    readonly path: string,
    readonly grantedTables: readonly string[],
  ) {
    const granted = grantedTables.length === 0 ? 'none' : grantedTables.join(', ');
    super(
      `${path}: table "${tableName}" is not one the pipeline may write (granted: ${granted}); ` +
        'add it to the WritePath dataTables and deploy before routing to it',
    );
  }
}

/** A document (a file, a message) is not JSON. */
export class InvalidSnapshotJsonError extends SnapshotError {
  readonly code = 'INVALID_JSON';
  constructor(
    readonly source: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${source} is not valid JSON: ${detail}`, options);
  }
}

/** A rollout request that cannot apply: bad percentage, bad rule, nothing to promote. */
export class InvalidRolloutError extends SnapshotError {
  readonly code = 'INVALID_ROLLOUT';
}

/**
 * An automated rollout's strategy is out of range (`field` names the setting: `canaryPercent`,
 * `stepPercent`, `everyMs`, `bakeMs`, `alarms[1]` …), or cannot apply to the candidate.
 */
export class InvalidRolloutStrategyError extends SnapshotError {
  readonly code = 'INVALID_ROLLOUT_STRATEGY';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`rollout strategy ${field}: got ${JSON.stringify(value) ?? String(value)}; ${rule}`);
  }
}

/** A snapshot name outside `SNAPSHOT_NAME_PATTERN`. */
export class InvalidSnapshotNameError extends SnapshotError {
  readonly code = 'INVALID_SNAPSHOT_NAME';
  constructor(readonly snapshot: string) {
    super(`snapshot name "${snapshot}" must be 1-64 characters of A-Z a-z 0-9 _ . -`);
  }
}

/** `get()` was called before the reader's first successful load. */
export class SnapshotNotLoadedError extends SnapshotError {
  readonly code = 'SNAPSHOT_NOT_LOADED';
  constructor(readonly snapshot: string) {
    super(`snapshot "${snapshot}" is not loaded yet: await reader.load() (or use the middleware) first`);
  }
}

/** Reading from the store failed (network, throttling, permissions); the cause says why. */
export class SnapshotFetchError extends SnapshotError {
  readonly code = 'SNAPSHOT_FETCH_FAILED';
  override readonly retryable = true;
  constructor(
    readonly snapshot: string,
    options?: ErrorOptions,
  ) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`reading snapshot "${snapshot}" failed${detail}`, options);
  }
}

/** Writing a version's chunks or manifest did not complete; the cause says why. */
export class SnapshotWriteError extends SnapshotError {
  readonly code = 'SNAPSHOT_WRITE_FAILED';
  override readonly retryable = true;
  constructor(
    readonly snapshot: string,
    readonly version: number,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`writing snapshot "${snapshot}" version ${version} failed: ${detail}`, options);
  }
}

/** Prune or delete was asked to remove a version the pointer still serves (stable or candidate). */
export class SnapshotVersionInUseError extends SnapshotError {
  readonly code = 'SNAPSHOT_VERSION_IN_USE';
  constructor(
    readonly snapshot: string,
    readonly version: number,
    options?: ErrorOptions,
  ) {
    super(`snapshot "${snapshot}" version ${version} is stable or candidate; it cannot be deleted`, options);
  }
}

/** The pointer read has a lower generation than the one already adopted (a restored table?). */
export class PointerRegressedError extends SnapshotError {
  readonly code = 'POINTER_REGRESSED';
  constructor(
    readonly snapshot: string,
    readonly seen: number,
    readonly adopted: number,
  ) {
    super(
      `snapshot "${snapshot}": pointer generation ${seen} is older than the adopted ${adopted}; keeping ${adopted}`,
    );
  }
}
