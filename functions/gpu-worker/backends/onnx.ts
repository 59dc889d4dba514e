import { existsSync } from 'node:fs';
import type { InferenceSession } from 'onnxruntime-node';
import {
  GpuOutOfMemoryError,
  InferenceBackendError,
  UnexpectedOutputError,
} from '../../../shared/pipeline/inference/errors.ts';
import type { ModelRepository } from '../model-repository.ts';
import {
  type InferenceBackend,
  type InferenceOutput,
  isOutOfMemory,
  type LoadedModel,
  type ModelRef,
} from './types.ts';

export type ExecutionProvider = 'auto' | 'cuda' | 'cpu';

export interface OnnxBackendOptions {
  readonly repository: ModelRepository;
  /**
   * `auto` uses CUDA when a GPU device is visible (falling back to CPU if the CUDA provider cannot
   * load), `cuda` requires it, `cpu` never tries. @default 'auto'
   */
  readonly executionProvider?: ExecutionProvider;
  /** GPU to use. @default 0 */
  readonly deviceId?: number;
  /** ONNX Runtime intra-op threads (CPU); 0 lets ONNX Runtime choose. @default 0 */
  readonly intraOpThreads?: number;
  /** Called when `auto` falls back to CPU, with the reason. */
  readonly onFallback?: (reason: string) => void;
}

/** Whether the process can see an NVIDIA GPU (the device nodes ECS maps in for `gpuCount`). */
export function gpuVisible(): boolean {
  return existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');
}

/** ONNX Runtime in-process: the CUDA execution provider on a GPU, the CPU provider otherwise. */
export class OnnxBackend implements InferenceBackend {
  readonly name = 'onnx' as const;
  private readonly executionProvider: ExecutionProvider;

  constructor(private readonly options: OnnxBackendOptions) {
    this.executionProvider = options.executionProvider ?? 'auto';
  }

  async load(ref: ModelRef): Promise<LoadedModel> {
    const started = performance.now();
    const path = await this.options.repository.localPath(ref);
    // Imported on first use: the Triton backend and the unit tests of the rest never load the binding.
    const ort = await import('onnxruntime-node');
    const base: InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.options.intraOpThreads ?? 0,
      logSeverityLevel: 3,
    };
    const wantCuda = this.executionProvider === 'cuda' || (this.executionProvider === 'auto' && gpuVisible());
    let session: InferenceSession;
    let device = 'cpu';
    try {
      if (wantCuda) {
        try {
          session = await ort.InferenceSession.create(path, {
            ...base,
            executionProviders: [{ name: 'cuda', deviceId: this.options.deviceId ?? 0 }, 'cpu'],
          });
          device = 'cuda';
        } catch (error) {
          if (this.executionProvider === 'cuda') throw error;
          this.options.onFallback?.(`CUDA execution provider unavailable: ${(error as Error).message}`);
          session = await ort.InferenceSession.create(path, { ...base, executionProviders: ['cpu'] });
        }
      } else {
        session = await ort.InferenceSession.create(path, { ...base, executionProviders: ['cpu'] });
      }
    } catch (cause) {
      throw new InferenceBackendError(
        'onnx',
        `cannot load ${ref.name}@${ref.version} from ${path}: ${String(cause)}`,
        {
          cause,
        },
      );
    }
    const input = session.inputMetadata[0];
    const output = session.outputMetadata[0];
    if (!input?.isTensor || !output?.isTensor) {
      throw new InferenceBackendError('onnx', `${ref.name}@${ref.version} needs one tensor input and output`);
    }
    const itemShape = staticDims(input.shape.slice(1), `${ref.name}@${ref.version} input ${input.name}`);
    return new OnnxModel(
      ort.Tensor,
      session,
      ref,
      itemShape,
      input.name,
      output.name,
      device,
      performance.now() - started,
    );
  }
}

class OnnxModel implements LoadedModel {
  constructor(
    private readonly TensorClass: typeof import('onnxruntime-node').Tensor,
    private readonly session: InferenceSession,
    readonly ref: ModelRef,
    readonly itemShape: readonly number[],
    private readonly inputName: string,
    private readonly outputName: string,
    readonly device: string,
    readonly loadMs: number,
  ) {}

  async infer(inputs: Float32Array, batchSize: number): Promise<InferenceOutput> {
    const tensor = new this.TensorClass('float32', inputs, [batchSize, ...this.itemShape]);
    let result: InferenceSession.ReturnType;
    try {
      result = await this.session.run({ [this.inputName]: tensor });
    } catch (cause) {
      const message = String((cause as Error)?.message ?? cause);
      if (isOutOfMemory(message)) throw new GpuOutOfMemoryError(batchSize, { cause });
      throw new InferenceBackendError('onnx', `run failed for a batch of ${batchSize}: ${message}`, {
        cause,
      });
    } finally {
      tensor.dispose();
    }
    const output = result[this.outputName];
    if (!output || !(output.data instanceof Float32Array) || output.dims[0] !== batchSize) {
      throw new UnexpectedOutputError(
        `onnx: ${this.ref.name}@${this.ref.version} returned no float32 rows for the batch`,
      );
    }
    const itemShape = output.dims.slice(1);
    const data = output.data.slice();
    output.dispose();
    return { data, itemShape };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function staticDims(dims: readonly (number | string)[], what: string): number[] {
  if (!dims.every((d): d is number => typeof d === 'number' && d > 0)) {
    throw new InferenceBackendError(
      'onnx',
      `${what} has dynamic dimensions beyond the batch: [${dims.join(', ')}]`,
    );
  }
  return [...dims];
}
