import { describe, expect, it } from 'vitest';
import {
  resolveInput,
  type S3InputReader,
  UnsupportedS3InputReader,
} from '../../../../functions/gpu-worker/inputs.ts';
import { argMax } from '../../../../functions/gpu-worker/results.ts';

describe('resolveInput', () => {
  const none = new UnsupportedS3InputReader();

  it('accepts the item shape, with or without a leading batch dimension of 1', async () => {
    // Act
    const plain = await resolveInput({ shape: [2, 2], data: [1, 2, 3, 4] }, [2, 2], none);
    const batched = await resolveInput({ shape: [1, 2, 2], data: [1, 2, 3, 4] }, [2, 2], none);
    // Assess
    expect(plain).toEqual(Float32Array.from([1, 2, 3, 4]));
    expect(batched).toEqual(plain);
  });

  it('rejects another shape with the shapes in the message', async () => {
    // Act & Assess
    await expect(resolveInput({ shape: [4], data: [1, 2, 3, 4] }, [2, 2], none)).rejects.toThrow(
      "input shape [4] does not fit the model's input [2, 2]",
    );
  });

  it('fails an S3 input on a worker without S3 with a clear, permanent error', async () => {
    // Act
    const error = await resolveInput({ s3Uri: 's3://b/k.json' }, [2, 2], none).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ code: 'S3_INPUT_UNSUPPORTED', retryable: false });
    expect(String(error)).toContain('s3://b/k.json');
  });

  it('reads an S3 input through the reader', async () => {
    // Prepare
    const reader: S3InputReader = { read: async () => ({ shape: [2, 2], data: [4, 3, 2, 1] }) };
    // Act
    const input = await resolveInput({ s3Uri: 's3://b/k.json' }, [2, 2], reader);
    // Assess
    expect(input).toEqual(Float32Array.from([4, 3, 2, 1]));
  });
});

describe('argMax', () => {
  it('returns the index of the first largest value', () => {
    // Act & Assess
    expect(argMax([0.1, 0.7, 0.2, 0.7])).toBe(1);
    expect(argMax([5])).toBe(0);
  });
});
