import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../../../../functions/gpu-worker/backends/onnx.ts';
import type { LoadedModel } from '../../../../../functions/gpu-worker/backends/types.ts';
import { LocalModelRepository } from '../../../../../functions/gpu-worker/model-repository.ts';
import {
  type BuiltModel,
  encodeShelfClassifier,
  ensureShelfClassifier,
  referenceForward,
  sampleImage,
  shelfClassifierWeights,
} from '../../../../../shared/local/model/build-model.ts';

// A small hidden layer keeps the test fast; the graph is the one the worker serves.
const spec = { hidden: 64 };
let repository: string;
let built: BuiltModel;
let model: LoadedModel;

beforeAll(async () => {
  repository = await mkdtemp(join(tmpdir(), 'models-'));
  built = await ensureShelfClassifier({ repository, spec });
  model = await new OnnxBackend({
    repository: new LocalModelRepository(repository),
    executionProvider: 'cpu',
  }).load({
    name: built.spec.name,
    version: built.spec.version,
  });
});

afterAll(async () => {
  await model?.dispose();
  await rm(repository, { recursive: true, force: true });
});

describe('the shelf classifier model', () => {
  it('is byte-identical for the same seed and differs for another', () => {
    // Act
    const a = encodeShelfClassifier(shelfClassifierWeights({ ...built.spec }));
    const b = encodeShelfClassifier(shelfClassifierWeights({ ...built.spec }));
    const c = encodeShelfClassifier(shelfClassifierWeights({ ...built.spec, seed: 8 }));
    // Assess
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('is not rewritten when an identical file is there', async () => {
    // Act
    const again = await ensureShelfClassifier({ repository, spec });
    // Assess
    expect(again).toMatchObject({ built: false, sha256: built.sha256, path: built.path });
  });
});

describe('OnnxBackend on CPU', () => {
  it('reads the item shape from the model and runs on the CPU provider', () => {
    // Assess
    expect(model.itemShape).toEqual([3, 32, 32]);
    expect(model.device).toBe('cpu');
  });

  it('computes what the TypeScript reference computes, for every row of a batch', async () => {
    // Prepare
    const weights = shelfClassifierWeights(built.spec);
    const images = [1, 2, 3, 4, 5].map((seed) => sampleImage(seed));
    const batch = new Float32Array(images.flat());
    // Act
    const out = await model.infer(batch, images.length);
    // Assess
    expect(out.itemShape).toEqual([10]);
    images.forEach((image, i) => {
      const reference = referenceForward(weights, image);
      const row = Array.from(out.data.subarray(i * 10, (i + 1) * 10));
      for (const [k, p] of row.entries()) expect(p).toBeCloseTo(reference[k]!, 5);
    });
  });

  it('gives the same row for an image alone as inside a batch', async () => {
    // Prepare
    const image = Float32Array.from(sampleImage(9));
    const batch = new Float32Array(3 * image.length);
    batch.set(image, image.length);
    // Act
    const alone = await model.infer(image, 1);
    const inside = await model.infer(batch, 3);
    // Assess
    for (const [k, p] of Array.from(alone.data).entries()) expect(inside.data[10 + k]).toBeCloseTo(p, 6);
  });

  it('reports a missing model version as ModelNotFoundError', async () => {
    // Prepare
    const backend = new OnnxBackend({
      repository: new LocalModelRepository(repository),
      executionProvider: 'cpu',
    });
    // Act & Assess
    await expect(backend.load({ name: 'shelf-classifier', version: '99' })).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      retryable: false,
    });
  });
});
