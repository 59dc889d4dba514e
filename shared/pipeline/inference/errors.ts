import { PipelineError } from '../../core/errors.ts';

/** The inference request does not match the request contract; `path` points at the bad field. */
export class InvalidInferenceRequestError extends PipelineError {
  readonly code = 'INVALID_INFERENCE_REQUEST';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${path || '(root)'}: ${detail}`, options);
  }
}

/** The request names a model that no configured version serves. */
export class UnknownModelError extends PipelineError {
  readonly code = 'UNKNOWN_MODEL';
  constructor(
    readonly model: string,
    readonly known: readonly string[],
  ) {
    super(`model "${model}" is not served (known: ${known.join(', ') || 'none'})`);
  }
}

/** The model version's files are not where the worker looks for them. */
export class ModelNotFoundError extends PipelineError {
  readonly code = 'MODEL_NOT_FOUND';
  constructor(
    readonly model: string,
    readonly version: string,
    readonly location: string,
    options?: ErrorOptions,
  ) {
    super(`model "${model}" version "${version}" not found at ${location}`, options);
  }
}

/** The job's input does not fit the model's input tensor. */
export class InputShapeMismatchError extends PipelineError {
  readonly code = 'INPUT_SHAPE_MISMATCH';
  constructor(
    readonly shape: readonly number[],
    readonly expected: readonly number[],
  ) {
    super(`input shape [${shape.join(', ')}] does not fit the model's input [${expected.join(', ')}]`);
  }
}

/** An `s3Uri` input reached a worker that cannot read S3 (local runs). */
export class S3InputUnsupportedError extends PipelineError {
  readonly code = 'S3_INPUT_UNSUPPORTED';
  constructor(readonly uri: string) {
    super(
      `input ${uri}: S3 inputs are not supported by this worker (S3_INPUTS=disabled); send the input inline`,
    );
  }
}

/** An `s3Uri` input could not be read or is not a `{ shape, data }` JSON document. */
export class S3InputError extends PipelineError {
  readonly code = 'S3_INPUT';
  override readonly retryable: boolean;
  constructor(
    readonly uri: string,
    detail: string,
    retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(`input ${uri}: ${detail}`, options);
    this.retryable = retryable;
  }
}

/** A gpu-work message body is not a valid work message (a dispatcher bug or a foreign producer). */
export class InvalidWorkMessageError extends PipelineError {
  readonly code = 'INVALID_WORK_MESSAGE';
  constructor(
    readonly messageId: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`work message ${messageId}: ${detail}`, options);
  }
}

/** The inference backend failed for a reason that may pass (driver hiccup, Triton restarting). */
export class InferenceBackendError extends PipelineError {
  readonly code = 'INFERENCE_BACKEND';
  override readonly retryable = true;
  constructor(
    readonly backend: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${backend}: ${detail}`, options);
  }
}

/** The GPU ran out of memory for this batch: retry with a smaller batch. */
export class GpuOutOfMemoryError extends PipelineError {
  readonly code = 'GPU_OUT_OF_MEMORY';
  override readonly retryable = true;
  constructor(
    readonly batchSize: number,
    options?: ErrorOptions,
  ) {
    super(`out of GPU memory running a batch of ${batchSize}`, options);
  }
}

/** The inference result could not be read back as one output row per job. */
export class UnexpectedOutputError extends PipelineError {
  readonly code = 'UNEXPECTED_OUTPUT';
  override readonly retryable = true;
  constructor(detail: string) {
    super(detail);
  }
}
