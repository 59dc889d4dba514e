import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { mulberry32 } from '../../core/random.ts';

/**
 * The deterministic "shelf classifier": a 3×32×32 image → 10 shelf classes MLP
 * (Flatten → Gemm → Relu → Gemm → Softmax) with seeded weights. No download, no training: the same
 * seed always yields byte-identical ONNX, and `referenceForward` computes the same function in
 * TypeScript so tests can check ONNX Runtime (and any backend) against it.
 *
 * CLI: `npx tsx shared/local/model/build-model.ts [--out .models] [--hidden 1024] [--seed 7]`
 */

const { onnx } = onnxProto;

export interface ShelfClassifierSpec {
  /** Model name: the folder under the model repository. */
  readonly name: string;
  /** Model version: the sub-folder (Triton's layout: `<repo>/<name>/<version>/model.onnx`). */
  readonly version: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Width of the hidden layer; the first Gemm dominates the cost (inputs × hidden multiply-adds). */
  readonly hidden: number;
  readonly classes: number;
  readonly seed: number;
}

export const defaultShelfClassifier: ShelfClassifierSpec = {
  name: 'shelf-classifier',
  version: '1',
  channels: 3,
  height: 32,
  width: 32,
  hidden: 1024,
  classes: 10,
  seed: 7,
};

/** Tensor names of the graph: what a backend feeds and fetches. */
export const shelfClassifierIo = { input: 'image', output: 'probabilities' } as const;

export interface ShelfClassifierWeights {
  readonly spec: ShelfClassifierSpec;
  /** [inputs, hidden], row-major. */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  /** [hidden, classes], row-major. */
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

export function inputSize(spec: ShelfClassifierSpec): number {
  return spec.channels * spec.height * spec.width;
}

function uniform(random: () => number, length: number, bound: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (random() * 2 - 1) * bound;
  return out;
}

/** The weights for `spec` (He-style uniform bounds so activations neither vanish nor explode). */
export function shelfClassifierWeights(
  spec: ShelfClassifierSpec = defaultShelfClassifier,
): ShelfClassifierWeights {
  const random = mulberry32(spec.seed);
  const inputs = inputSize(spec);
  return {
    spec,
    w1: uniform(random, inputs * spec.hidden, Math.sqrt(6 / inputs)),
    b1: uniform(random, spec.hidden, 0.1),
    w2: uniform(random, spec.hidden * spec.classes, Math.sqrt(6 / spec.hidden)),
    b2: uniform(random, spec.classes, 0.1),
  };
}

/** A deterministic "image" in [0, 1) for tests, demos and benchmarks. */
export function sampleImage(seed: number, spec: ShelfClassifierSpec = defaultShelfClassifier): number[] {
  const random = mulberry32(seed ^ 0x9e3779b9);
  return Array.from({ length: inputSize(spec) }, () => Math.round(random() * 1000) / 1000);
}

/** The model's function in TypeScript (float64 accumulation): softmax over the 10 class scores. */
export function referenceForward(weights: ShelfClassifierWeights, image: ArrayLike<number>): number[] {
  const { spec, w1, b1, w2, b2 } = weights;
  const inputs = inputSize(spec);
  if (image.length !== inputs) throw new RangeError(`image has ${image.length} values; expected ${inputs}`);
  const hidden = Array.from(b1, Number);
  for (let i = 0; i < inputs; i++) {
    const x = image[i]!;
    if (x === 0) continue;
    const row = i * spec.hidden;
    for (let h = 0; h < spec.hidden; h++) hidden[h]! += x * w1[row + h]!;
  }
  const logits = Array.from(b2, Number);
  for (let h = 0; h < spec.hidden; h++) {
    const a = Math.max(0, hidden[h]!);
    if (a === 0) continue;
    const row = h * spec.classes;
    for (let c = 0; c < spec.classes; c++) logits[c]! += a * w2[row + c]!;
  }
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((s, e) => s + e, 0);
  return exps.map((e) => e / sum);
}

function floatTensor(name: string, dims: number[], values: Float32Array): onnxProto.onnx.ITensorProto {
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Encodes the classifier as ONNX (IR 8, opset 13) with a dynamic batch dimension. */
export function encodeShelfClassifier(weights: ShelfClassifierWeights): Uint8Array {
  const { spec } = weights;
  const inputs = inputSize(spec);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'sqs-dynamodb-batch-pipeline/shared/local/model/build-model.ts',
    producerVersion: '1',
    modelVersion: Number(spec.version) || 1,
    docString: `deterministic shelf classifier, seed ${spec.seed}, hidden ${spec.hidden}`,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: spec.name,
      input: [valueInfo(shelfClassifierIo.input, ['batch', spec.channels, spec.height, spec.width])],
      output: [valueInfo(shelfClassifierIo.output, ['batch', spec.classes])],
      initializer: [
        floatTensor('w1', [inputs, spec.hidden], weights.w1),
        floatTensor('b1', [spec.hidden], weights.b1),
        floatTensor('w2', [spec.hidden, spec.classes], weights.w2),
        floatTensor('b2', [spec.classes], weights.b2),
      ],
      node: [
        {
          opType: 'Flatten',
          input: [shelfClassifierIo.input],
          output: ['flat'],
          attribute: [intAttr('axis', 1)],
        },
        { opType: 'Gemm', input: ['flat', 'w1', 'b1'], output: ['hidden'] },
        { opType: 'Relu', input: ['hidden'], output: ['activated'] },
        { opType: 'Gemm', input: ['activated', 'w2', 'b2'], output: ['logits'] },
        {
          opType: 'Softmax',
          input: ['logits'],
          output: [shelfClassifierIo.output],
          attribute: [intAttr('axis', 1)],
        },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function intAttr(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

export interface BuiltModel {
  /** Absolute path of `model.onnx`. */
  readonly path: string;
  /** Model repository root (Triton layout): `<repository>/<name>/<version>/model.onnx`. */
  readonly repository: string;
  readonly spec: ShelfClassifierSpec;
  /** sha256 of the ONNX bytes. */
  readonly sha256: string;
  /** Whether this call wrote the file (false: an identical file was already there). */
  readonly built: boolean;
}

export const defaultModelRepository = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '.models',
);

/**
 * Writes the model to `<repository>/<name>/<version>/model.onnx` unless an identical file is
 * already there (cheap to call from tests, the demo and the benchmark).
 */
export async function ensureShelfClassifier(
  options: { repository?: string; spec?: Partial<ShelfClassifierSpec> } = {},
): Promise<BuiltModel> {
  const spec = { ...defaultShelfClassifier, ...options.spec };
  const repository = resolve(options.repository ?? defaultModelRepository);
  const path = join(repository, spec.name, spec.version, 'model.onnx');
  const bytes = encodeShelfClassifier(shelfClassifierWeights(spec));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const existing = await readFile(path).catch(() => undefined);
  if (existing && createHash('sha256').update(existing).digest('hex') === sha256) {
    return { path, repository, spec, sha256, built: false };
  }
  await mkdir(dirname(path), { recursive: true });
  // Write then rename: concurrent test workers never read a half-written model.
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
  return { path, repository, spec, sha256, built: true };
}

function argValue(argv: readonly string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  return index >= 0 ? argv[index + 1] : undefined;
}

async function main(argv: readonly string[]): Promise<void> {
  const hidden = argValue(argv, '--hidden');
  const seed = argValue(argv, '--seed');
  const model = await ensureShelfClassifier({
    repository: argValue(argv, '--out'),
    spec: {
      ...(hidden ? { hidden: Number(hidden) } : {}),
      ...(seed ? { seed: Number(seed) } : {}),
    },
  });
  console.log(
    `${model.built ? 'built' : 'up to date'}: ${model.path} (sha256 ${model.sha256.slice(0, 16)}…)`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
