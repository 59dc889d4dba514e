/** Errors of the capacity analysis behind `pipeline advise`. */

import { PipelineError } from '../../core/errors.ts';

/** A sample line is not JSON, not a contract-v1 message, envelope or read line; `line` is 1-based. */
export class SampleLineError extends PipelineError {
  readonly code = 'BAD_SAMPLE_LINE';
  constructor(
    readonly line: number,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`line ${line}: ${detail}`, options);
  }
}

/** An analysis option is out of range (a target rate of 0, a negative GPU rate). */
export class InvalidAdviseOptionError extends PipelineError {
  readonly code = 'INVALID_ADVISE_OPTION';
  constructor(
    readonly option: string,
    readonly value: unknown,
    rule: string,
  ) {
    super(`${option}: got ${String(value)}; ${rule}`);
  }
}
