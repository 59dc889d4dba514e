import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsS3InputReader } from '../../../../functions/gpu-worker/inputs.ts';
import { S3ModelRepository } from '../../../../functions/gpu-worker/model-repository.ts';

/** An S3 stand-in serving `objects` (bucket/key → text). */
function fakeS3(objects: Record<string, string>) {
  const asked: string[] = [];
  const client = {
    send: async (command: GetObjectCommand) => {
      const { Bucket, Key } = command.input;
      asked.push(`${Bucket}/${Key}`);
      const text = objects[`${Bucket}/${Key}`];
      if (text === undefined)
        throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return {
        ContentLength: text.length,
        Body: Object.assign(Readable.from([Buffer.from(text)]), { transformToString: async () => text }),
      };
    },
  } as unknown as S3Client;
  return { client, asked };
}

describe('S3ModelRepository', () => {
  let cache: string;
  beforeEach(async () => {
    cache = await mkdtemp(join(tmpdir(), 'model-cache-'));
  });
  afterEach(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  it('downloads a version once into the cache, in the <name>/<version>/model.onnx layout', async () => {
    // Prepare
    const { client, asked } = fakeS3({ 'models-bucket/repo/shelf/2/model.onnx': 'onnx bytes' });
    const repository = new S3ModelRepository(client, 's3://models-bucket/repo', cache);
    // Act
    const path = await repository.localPath({ name: 'shelf', version: '2' });
    const again = await repository.localPath({ name: 'shelf', version: '2' });
    // Assess
    expect(path).toBe(join(cache, 'shelf', '2', 'model.onnx'));
    expect(again).toBe(path);
    expect(await readFile(path, 'utf8')).toBe('onnx bytes');
    expect(asked).toEqual(['models-bucket/repo/shelf/2/model.onnx']);
  });

  it('reports a missing version as ModelNotFoundError naming the S3 location', async () => {
    // Prepare
    const repository = new S3ModelRepository(fakeS3({}).client, 's3://models-bucket/', cache);
    // Act & Assess
    await expect(repository.localPath({ name: 'shelf', version: '9' })).rejects.toThrow(
      'model "shelf" version "9" not found at s3://models-bucket/shelf/9/model.onnx',
    );
  });
});

describe('AwsS3InputReader', () => {
  it('reads a { shape, data } document', async () => {
    // Prepare
    const reader = new AwsS3InputReader(fakeS3({ 'in/a.json': '{"shape":[2],"data":[1,2]}' }).client);
    // Act & Assess
    await expect(reader.read('s3://in/a.json')).resolves.toEqual({ shape: [2], data: [1, 2] });
  });

  it('fails permanently on a missing object or a malformed document, naming the URI', async () => {
    // Prepare
    const reader = new AwsS3InputReader(fakeS3({ 'in/bad.json': '{"shape":[3],"data":[1]}' }).client);
    // Act
    const missing = await reader.read('s3://in/none.json').catch((e: unknown) => e);
    const malformed = await reader.read('s3://in/bad.json').catch((e: unknown) => e);
    // Assess
    expect(missing).toMatchObject({ code: 'S3_INPUT', retryable: false });
    expect(String(missing)).toContain('s3://in/none.json');
    expect(String(malformed)).toContain('data: has 1 values; shape [3] needs 3');
  });
});
