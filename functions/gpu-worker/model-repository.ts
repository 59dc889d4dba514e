import { createWriteStream } from 'node:fs';
import { access, mkdir, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { ModelNotFoundError } from '../../shared/pipeline/inference/errors.ts';
import type { ModelRef } from './backends/types.ts';

/**
 * Where model files live, in Triton's layout: `<repository>/<name>/<version>/model.onnx`. A local
 * directory (tests, local runs, the model baked into the image) or an S3 prefix (downloaded once
 * per version into a cache directory).
 */
export interface ModelRepository {
  /** A local path of the version's `model.onnx`; throws `ModelNotFoundError` when it does not exist. */
  localPath(ref: ModelRef): Promise<string>;
}

export const MODEL_FILE = 'model.onnx';

export class LocalModelRepository implements ModelRepository {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async localPath(ref: ModelRef): Promise<string> {
    const path = join(this.root, ref.name, ref.version, MODEL_FILE);
    try {
      await access(path);
    } catch (cause) {
      throw new ModelNotFoundError(ref.name, ref.version, path, { cause });
    }
    return path;
  }
}

export class S3ModelRepository implements ModelRepository {
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    uri: string,
    private readonly cacheDir: string,
  ) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (!match) throw new ModelNotFoundError('*', '*', uri);
    this.bucket = match[1]!;
    this.prefix = match[2]!.replace(/\/?$/, match[2] ? '/' : '');
  }

  async localPath(ref: ModelRef): Promise<string> {
    const key = `${this.prefix}${ref.name}/${ref.version}/${MODEL_FILE}`;
    const path = join(this.cacheDir, ref.name, ref.version, MODEL_FILE);
    try {
      await access(path);
      return path;
    } catch {
      // Not cached yet.
    }
    let body: Readable;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      body = object.Body as Readable;
    } catch (cause) {
      if (cause instanceof NoSuchKey)
        throw new ModelNotFoundError(ref.name, ref.version, `s3://${this.bucket}/${key}`, { cause });
      throw cause;
    }
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.${process.pid}.part`;
    await pipeline(body instanceof Readable ? body : Readable.from(body), createWriteStream(partial));
    await rename(partial, path);
    return path;
  }
}
