import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TritonBackend } from '../../../../../functions/gpu-worker/backends/triton.ts';
import {
  defaultShelfClassifier,
  referenceForward,
  sampleImage,
  shelfClassifierWeights,
} from '../../../../../shared/local/model/build-model.ts';

// A KServe v2 server stand-in that serves the reference classifier (hidden 16) and can be told to
// fail the next request.
const spec = { ...defaultShelfClassifier, hidden: 16 };
const weights = shelfClassifierWeights(spec);
let server: Server;
let url: string;
let ready = false;
let failNext: { status: number; error: string } | undefined;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.url === '/v2/health/ready') return send(ready ? 200 : 503, {});
      if (req.url === '/v2/models/shelf-classifier/versions/1') {
        return send(200, {
          name: 'shelf-classifier',
          versions: ['1'],
          platform: 'onnxruntime_onnx',
          inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 3, 32, 32] }],
          outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
        });
      }
      if (req.url === '/v2/models/shelf-classifier/versions/1/infer') {
        if (failNext) {
          const { status, error } = failNext;
          failNext = undefined;
          return send(status, { error });
        }
        const { inputs } = JSON.parse(body) as { inputs: { shape: number[]; data: number[] }[] };
        const [n] = inputs[0]!.shape;
        const rows = Array.from({ length: n! }, (_, i) =>
          referenceForward(weights, inputs[0]!.data.slice(i * 3072, (i + 1) * 3072)),
        );
        return send(200, {
          model_name: 'shelf-classifier',
          outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [n, 10], data: rows.flat() }],
        });
      }
      send(404, { error: `unknown model ${req.url}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('TritonBackend (KServe v2 HTTP)', () => {
  it('waits for /v2/health/ready, reads the input shape from the metadata and runs batches', async () => {
    // Prepare
    ready = false;
    setTimeout(() => (ready = true), 600);
    const backend = new TritonBackend({ url: `${url}/`, readyTimeoutMs: 5_000 });
    const images = [sampleImage(1), sampleImage(2)];
    // Act
    const model = await backend.load({ name: 'shelf-classifier', version: '1' });
    const out = await model.infer(new Float32Array(images.flat()), 2);
    // Assess
    expect(requests.filter((r) => r === 'GET /v2/health/ready').length).toBeGreaterThan(1);
    expect(model.itemShape).toEqual([3, 32, 32]);
    expect(out.itemShape).toEqual([10]);
    const reference = referenceForward(weights, images[1]!);
    for (const [k, p] of Array.from(out.data.subarray(10, 20)).entries())
      expect(p).toBeCloseTo(reference[k]!, 5);
  });

  it('reports an unknown model version as ModelNotFoundError', async () => {
    // Prepare
    ready = true;
    const backend = new TritonBackend({ url });
    // Act & Assess
    await expect(backend.load({ name: 'shelf-classifier', version: '2' })).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    });
  });

  it('turns an out-of-memory answer into GpuOutOfMemoryError and other failures into retryable backend errors', async () => {
    // Prepare
    ready = true;
    const model = await new TritonBackend({ url }).load({ name: 'shelf-classifier', version: '1' });
    const input = new Float32Array(3072 * 4);
    // Act
    failNext = { status: 500, error: 'onnx runtime error 6: CUDA failure 2: out of memory' };
    const oom = await model.infer(input, 4).catch((e: unknown) => e);
    failNext = { status: 503, error: 'model unavailable' };
    const other = await model.infer(input, 4).catch((e: unknown) => e);
    // Assess
    expect(oom).toMatchObject({ code: 'GPU_OUT_OF_MEMORY', batchSize: 4, retryable: true });
    expect(other).toMatchObject({ code: 'INFERENCE_BACKEND', retryable: true });
    expect(String(other)).toContain('HTTP 503: model unavailable');
  });
});
