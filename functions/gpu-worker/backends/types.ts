/** Which model version to run. */
export interface ModelRef {
  readonly name: string;
  readonly version: string;
}

/** The rows an inference call produced: `batchSize` rows of `itemShape`, row-major. */
export interface InferenceOutput {
  readonly data: Float32Array;
  readonly itemShape: readonly number[];
}

/** One model version, loaded and ready to run batches. */
export interface LoadedModel {
  readonly ref: ModelRef;
  /** Shape of one input item, without the batch dimension (e.g. [3, 32, 32]). */
  readonly itemShape: readonly number[];
  /** Where it runs: `cuda`, `cpu`, or `triton`. */
  readonly device: string;
  /** Milliseconds spent loading (fetch included). */
  readonly loadMs: number;
  /**
   * Runs one batch: `inputs` holds `batchSize` items of `itemShape`, row-major. Throws
   * `GpuOutOfMemoryError` when the batch does not fit (retry smaller) and `InferenceBackendError`
   * for other failures.
   */
  infer(inputs: Float32Array, batchSize: number): Promise<InferenceOutput>;
  dispose(): Promise<void>;
}

/** Loads model versions: ONNX Runtime in-process (default) or a Triton server. */
export interface InferenceBackend {
  readonly name: 'onnx' | 'triton';
  /** Throws `ModelNotFoundError` when the version does not exist (a permanent job failure). */
  load(ref: ModelRef): Promise<LoadedModel>;
}

/** Number of values in one item of `shape`. */
export function itemSize(shape: readonly number[]): number {
  return shape.reduce((product, d) => product * d, 1);
}

const OUT_OF_MEMORY = /out of memory|failed to allocate memory|ALLOC_FAILED|OOM/i;

/** Whether a backend's error message reports that the GPU ran out of memory. */
export function isOutOfMemory(message: string): boolean {
  return OUT_OF_MEMORY.test(message);
}
