import { describe, expect, it, vi } from 'vitest';
import { AdaptiveBatchLimit } from '../../../../functions/gpu-worker/batch-limit.ts';
import { BatchRunner } from '../../../../functions/gpu-worker/batch-runner.ts';
import { InferenceBackendError } from '../../../../shared/pipeline/inference/errors.ts';
import { FakeBackend, silentLogger } from '../../../support/fakes/inference.ts';

async function setup(backend: FakeBackend, maxBatchDurationMs = 10_000) {
  const batchLimit = new AdaptiveBatchLimit({ max: 8 });
  const onHang = vi.fn();
  const runner = new BatchRunner({
    batchLimit,
    maxBatchDurationMs,
    onHang,
    logger: silentLogger,
  });
  const model = await backend.load({ name: 'tiny', version: '1' });
  return { runner, model, batchLimit, onHang };
}

/** A 2×2 input whose fake output is [4n + 6, n + 3]. */
const input = (n: number) => Float32Array.from([n, n + 1, n + 2, n + 3]);

describe('BatchRunner', () => {
  it('splits a batch that runs out of GPU memory in halves, keeps results in order and lowers the limit', async () => {
    // Prepare
    const backend = new FakeBackend({ memoryLimit: 3 });
    const { runner, model, batchLimit } = await setup(backend);
    // Act
    const results = await runner.run(model, [0, 1, 2, 3, 4].map(input));
    // Assess
    expect(backend.batches).toEqual([3, 2]);
    expect(results.map((r) => ('output' in r ? Array.from(r.output.data) : r.error))).toEqual([
      [6, 3],
      [10, 4],
      [14, 5],
      [18, 6],
      [22, 7],
    ]);
    expect(batchLimit.current()).toBe(2);
  });

  it('fails every item retryably and reports the hang when inference outlasts maxBatchDurationMs', async () => {
    // Prepare
    const backend = new FakeBackend({ delayMs: Number.POSITIVE_INFINITY });
    const { runner, model, onHang } = await setup(backend, 20);
    // Act
    const results = await runner.run(model, [input(0), input(1)]);
    // Assess
    expect(onHang).toHaveBeenCalledOnce();
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect('error' in result && result.error).toBeInstanceOf(InferenceBackendError);
      expect('error' in result && (result.error as InferenceBackendError).retryable).toBe(true);
    }
  });
});
