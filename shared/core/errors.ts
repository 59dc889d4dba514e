/**
 * Base of every error the pipeline raises on purpose. `code` is stable for machines (DLQ attributes,
 * metrics, tests); the message names the bad value for people.
 */
export abstract class PipelineError extends Error {
  abstract readonly code: string;
  /** Whether retrying the same input can succeed. Permanent errors go to a DLQ at once. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
