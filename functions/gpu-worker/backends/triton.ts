import {
  GpuOutOfMemoryError,
  InferenceBackendError,
  ModelNotFoundError,
  UnexpectedOutputError,
} from '../../../shared/pipeline/inference/errors.ts';
import {
  type InferenceBackend,
  type InferenceOutput,
  isOutOfMemory,
  itemSize,
  type LoadedModel,
  type ModelRef,
} from './types.ts';

export interface TritonBackendOptions {
  /** Base URL of Triton's HTTP endpoint, e.g. `http://localhost:8000`. */
  readonly url: string;
  /** Per-request timeout. @default 120_000 */
  readonly timeoutMs?: number;
  /** How long `load` waits for `/v2/health/ready`. @default 60_000 */
  readonly readyTimeoutMs?: number;
  readonly fetch?: typeof fetch;
}

interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

interface ModelMetadata {
  readonly inputs?: readonly TensorMetadata[];
  readonly outputs?: readonly TensorMetadata[];
}

interface InferResponse {
  readonly outputs?: readonly { name: string; shape: number[]; datatype: string; data: number[] }[];
  readonly error?: string;
}

/**
 * Triton Inference Server over the KServe v2 HTTP/REST protocol: readiness via
 * `/v2/health/ready`, metadata via `/v2/models/{name}/versions/{version}`, batches via
 * `/v2/models/{name}/versions/{version}/infer` (JSON tensors). Triton owns the GPU; the worker
 * still micro-batches so each request carries a full batch.
 */
export class TritonBackend implements InferenceBackend {
  readonly name = 'triton' as const;
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: TritonBackendOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async load(ref: ModelRef): Promise<LoadedModel> {
    const started = performance.now();
    await this.waitReady();
    const path = modelPath(ref);
    const response = await this.request('GET', path);
    if (response.status === 404 || response.status === 400) {
      throw new ModelNotFoundError(ref.name, ref.version, `${this.base}${path}`);
    }
    const metadata = (await this.json(response, path)) as ModelMetadata;
    const input = metadata.inputs?.[0];
    const output = metadata.outputs?.[0];
    if (!input || !output || input.datatype !== 'FP32') {
      throw new InferenceBackendError(
        'triton',
        `${ref.name}@${ref.version} needs one FP32 input and an output`,
      );
    }
    // Triton reports the batch dimension as -1 for models with dynamic batching.
    const dims = input.shape[0] === -1 ? input.shape.slice(1) : input.shape;
    if (!dims.every((d) => d > 0)) {
      throw new InferenceBackendError(
        'triton',
        `${ref.name}@${ref.version} input has dynamic dimensions: [${dims.join(', ')}]`,
      );
    }
    return new TritonModel(this, ref, dims, input.name, output.name, performance.now() - started);
  }

  /** Polls `/v2/health/ready` until Triton answers 200 or `readyTimeoutMs` passes. */
  async waitReady(): Promise<void> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 60_000);
    let last = '';
    while (Date.now() < deadline) {
      try {
        const response = await this.request('GET', '/v2/health/ready');
        await response.body?.cancel();
        if (response.ok) return;
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = String(error);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new InferenceBackendError('triton', `${this.base} not ready: ${last}`);
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    try {
      return await this.fetch(`${this.base}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
      });
    } catch (cause) {
      throw new InferenceBackendError('triton', `${method} ${path} failed: ${String(cause)}`, { cause });
    }
  }

  async json(response: Response, path: string): Promise<unknown> {
    const text = await response.text();
    if (!response.ok) {
      const error = parseError(text);
      throw new InferenceBackendError('triton', `${path}: HTTP ${response.status}: ${error}`);
    }
    return JSON.parse(text);
  }
}

class TritonModel implements LoadedModel {
  readonly device = 'triton';

  constructor(
    private readonly backend: TritonBackend,
    readonly ref: ModelRef,
    readonly itemShape: readonly number[],
    private readonly inputName: string,
    private readonly outputName: string,
    readonly loadMs: number,
  ) {}

  async infer(inputs: Float32Array, batchSize: number): Promise<InferenceOutput> {
    const path = `${modelPath(this.ref)}/infer`;
    const response = await this.backend.request('POST', path, {
      inputs: [
        {
          name: this.inputName,
          shape: [batchSize, ...this.itemShape],
          datatype: 'FP32',
          data: Array.from(inputs),
        },
      ],
      outputs: [{ name: this.outputName }],
    });
    if (!response.ok) {
      const error = parseError(await response.text());
      if (isOutOfMemory(error)) throw new GpuOutOfMemoryError(batchSize);
      throw new InferenceBackendError('triton', `${path}: HTTP ${response.status}: ${error}`);
    }
    const body = (await response.json()) as InferResponse;
    const output = body.outputs?.find((o) => o.name === this.outputName);
    if (
      !output ||
      output.shape[0] !== batchSize ||
      output.data.length !== batchSize * itemSize(output.shape.slice(1))
    ) {
      throw new UnexpectedOutputError(
        `triton: ${this.ref.name}@${this.ref.version} returned no ${this.outputName} rows for the batch`,
      );
    }
    return { data: Float32Array.from(output.data), itemShape: output.shape.slice(1) };
  }

  async dispose(): Promise<void> {}
}

function modelPath(ref: ModelRef): string {
  return `/v2/models/${encodeURIComponent(ref.name)}/versions/${encodeURIComponent(ref.version)}`;
}

function parseError(text: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    return text.slice(0, 500);
  }
}
