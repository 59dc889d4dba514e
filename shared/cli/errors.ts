/**
 * The errors of the `pipeline` CLI, shared by its commands. Each is reported as `error: <message>`
 * and sets the process's exit status (`exitCode`).
 */

import { PipelineError } from '../core/errors.ts';

/** An error the CLI reports as `error: <message>` and exits with `exitCode`. */
export abstract class CliError extends PipelineError {
  /** Process exit status: 2 for bad input (flags, files, lines, stack file). */
  readonly exitCode: number = 2;
}

/** A flag is missing, malformed, out of range or combined with one it excludes. */
export class UsageError extends CliError {
  readonly code = 'USAGE';
}

/** The input file cannot be opened or read. */
export class SourceReadError extends CliError {
  readonly code = 'SOURCE_UNREADABLE';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`cannot read ${path}: ${detail}`, options);
  }
}

/**
 * A JSONL line is not JSON, not a contract-v1 message, or a message SQS would refuse. `sent` says
 * how many messages (all from lines before it) were sent before the CLI stopped.
 */
export class MalformedLineError extends CliError {
  readonly code = 'MALFORMED_LINE';
  constructor(
    readonly source: string,
    readonly line: number,
    readonly detail: string,
    readonly sent: number,
    options?: ErrorOptions,
  ) {
    const outcome =
      sent === 0
        ? 'nothing was sent'
        : `stopped there: the ${sent} message(s) before it were sent, nothing after it`;
    super(`${source}:${line}: ${detail} (${outcome})`, options);
  }
}

/** The stack file does not name the queue (`StackFileError` covers a missing or malformed file). */
export class StackConfigError extends CliError {
  readonly code = 'STACK_CONFIG';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${detail}`, options);
  }
}

/**
 * `snapshot publish` cannot tell which tables the pipeline may write, so it cannot refuse a route
 * the batch writer would get AccessDenied on: it refuses to publish instead.
 */
export class GrantedTablesUnknownError extends CliError {
  readonly code = 'GRANTED_TABLES_UNKNOWN';
  constructor() {
    super(
      'cannot check the routing against the tables the pipeline may write: pass --granted-tables <t1,t2,…> ' +
        '(the WritePath stack output GrantedTableNames), or use a stack file that lists grantedTables',
    );
  }
}

/** A snapshot operation failed; the message is the underlying error's, the code too. */
export class SnapshotCommandError extends CliError {
  readonly code: string;
  override readonly exitCode: number;
  constructor(cause: PipelineError) {
    super(cause.message, { cause });
    this.code = cause.code;
    // A lost race or an unreachable table is worth retrying (1); anything else is bad input (2).
    this.exitCode = cause.retryable ? 1 : 2;
  }
}

/** DynamoDB refused or failed a request (missing table, no credentials, throttling…). */
export class SnapshotStoreRequestError extends CliError {
  readonly code = 'AWS_REQUEST_FAILED';
  override readonly exitCode = 1;
  constructor(tableName: string, cause: Error) {
    super(`DynamoDB table ${tableName}: ${cause.name}: ${cause.message}`, { cause });
  }
}

/**
 * An SQS request of `pipeline dlq` failed for good (no such queue, access denied, retries used up).
 * `operation` is the SQS action, `queueUrl` the queue it named.
 */
export class DlqRequestError extends CliError {
  readonly code = 'AWS_REQUEST_FAILED';
  override readonly exitCode = 1;
  constructor(
    readonly operation: string,
    readonly queueUrl: string,
    cause: Error,
    options?: { readonly hint?: string },
  ) {
    super(
      `SQS ${operation} on ${queueUrl}: ${cause.name}: ${cause.message}${options?.hint ? ` (${options.hint})` : ''}`,
      { cause },
    );
  }
}

/**
 * The redrive journal (the record of messages already sent, read on a rerun so none is sent twice)
 * cannot be used: unreadable, corrupt, written for other queues, or held by a live process.
 */
export class RedriveJournalError extends CliError {
  readonly code: 'JOURNAL_UNREADABLE' | 'JOURNAL_CORRUPT' | 'JOURNAL_MISMATCH' | 'JOURNAL_LOCKED';
  constructor(
    code: RedriveJournalError['code'],
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`redrive journal ${path}: ${detail}`, options);
    this.code = code;
  }
}

/** SQS ended a message move task (`StartMessageMoveTask`) as FAILED, or refused to start one. */
export class MessageMoveTaskError extends CliError {
  readonly code = 'MESSAGE_MOVE_TASK_FAILED';
  override readonly exitCode = 1;
  constructor(
    readonly sourceArn: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`message move task from ${sourceArn}: ${reason}`, options);
  }
}

/** `pipeline advise` has nothing to analyse: an empty sample, no usable line, or a bad line with `--strict`. */
export class InvalidSampleError extends CliError {
  readonly code = 'INVALID_SAMPLE';
  constructor(
    readonly source: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(detail, options);
  }
}

/** An output file (`--context-file`, `--report`) cannot be written. */
export class OutputWriteError extends CliError {
  readonly code = 'OUTPUT_UNWRITABLE';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`cannot write ${path}: ${detail}`, options);
  }
}

/** The `--routes` file is not JSON, or neither a routing map nor a pipeline config document. */
export class RoutesFileError extends CliError {
  readonly code = 'INVALID_ROUTES_FILE';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`--routes ${path}: ${detail}`, options);
  }
}

/**
 * `pipeline advise --from-queue/--from-table` cannot get a queue's or a table's figures. `reason`
 * sets the exit status: `request-failed` (CloudWatch, SQS or DynamoDB unreachable or refusing: 1,
 * worth retrying) or `no-data` (nothing to measure, such as a queue with no datapoints in the
 * window, or a table the analysis cannot take: 2, change the flags).
 */
export class LiveFiguresUnavailableError extends CliError {
  readonly code = 'LIVE_FIGURES_UNAVAILABLE';
  override readonly exitCode: number;
  constructor(
    readonly source: string,
    readonly reason: 'request-failed' | 'no-data',
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${source}: ${detail}`, options);
    this.exitCode = reason === 'request-failed' ? 1 : 2;
  }
}

/**
 * `pipeline simulate` cannot read the pipeline's settings: the cloud assembly (`--cdk-out`) is
 * missing or unreadable, or its templates lack the batch writer's event source.
 */
export class AssemblySettingsError extends CliError {
  readonly code = 'ASSEMBLY_SETTINGS';
  constructor(
    readonly dir: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`--cdk-out ${dir}: ${detail}`, options);
  }
}
