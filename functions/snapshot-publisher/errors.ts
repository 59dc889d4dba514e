import { PipelineError } from '../../shared/core/errors.ts';

/** The message is JSON but not a change operation; `path` points at the bad field. */
export class InvalidChangeError extends PipelineError {
  readonly code = 'INVALID_CHANGE';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path || '(root)'}: ${detail}`);
  }
}

/** The change's key path cannot be applied to the document (e.g. it walks through a string). */
export class InvalidChangePathError extends PipelineError {
  readonly code = 'INVALID_CHANGE_PATH';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`path "${path}": ${detail}`);
  }
}

/** Applying the change would make the configuration invalid; the cause names the bad field. */
export class ChangeRejectedError extends PipelineError {
  readonly code = 'CHANGE_REJECTED';
  constructor(what: string, options: ErrorOptions & { cause: Error }) {
    super(`${what} would make the configuration invalid: ${options.cause.message}`, options);
  }
}
