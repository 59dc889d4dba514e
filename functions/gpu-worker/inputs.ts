import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type InlineInput,
  InlineInputSchema,
  isS3Input,
  type JobInput,
} from '../../shared/pipeline/inference/contract.ts';
import {
  InputShapeMismatchError,
  S3InputError,
  S3InputUnsupportedError,
} from '../../shared/pipeline/inference/errors.ts';

/** Reads an `s3Uri` input: a `{ "shape": [..], "data": [..] }` JSON document. */
export interface S3InputReader {
  read(uri: string): Promise<InlineInput>;
}

/** Local runs have no S3: such jobs fail with a clear reason instead of retrying forever. */
export class UnsupportedS3InputReader implements S3InputReader {
  async read(uri: string): Promise<InlineInput> {
    throw new S3InputUnsupportedError(uri);
  }
}

const PERMANENT_S3_ERRORS = new Set(['NoSuchKey', 'NoSuchBucket', 'AccessDenied', 'InvalidObjectState']);

export class AwsS3InputReader implements S3InputReader {
  constructor(
    private readonly client: S3Client,
    private readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  async read(uri: string): Promise<InlineInput> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!match) throw new S3InputError(uri, 'not an s3://bucket/key URI', false);
    let text: string;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
      if ((object.ContentLength ?? 0) > this.maxBytes) {
        throw new S3InputError(
          uri,
          `object is ${object.ContentLength} bytes; the limit is ${this.maxBytes}`,
          false,
        );
      }
      text = (await object.Body?.transformToString('utf8')) ?? '';
    } catch (cause) {
      if (cause instanceof S3InputError) throw cause;
      const name = (cause as Error).name;
      throw new S3InputError(uri, `GetObject failed: ${name}`, !PERMANENT_S3_ERRORS.has(name), { cause });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new S3InputError(uri, 'object is not JSON', false, { cause });
    }
    const parsed = InlineInputSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new S3InputError(uri, `${issue.path.join('.') || '(root)'}: ${issue.message}`, false);
    }
    return parsed.data;
  }
}

/**
 * The job's input as a flat float32 row of the model's item shape. A shape equal to the item
 * shape, or with a leading batch dimension of 1, fits; anything else is the request's fault
 * (`InputShapeMismatchError`, permanent).
 */
export async function resolveInput(
  input: JobInput,
  itemShape: readonly number[],
  s3: S3InputReader,
): Promise<Float32Array> {
  const inline = isS3Input(input) ? await s3.read(input.s3Uri) : input;
  const shape =
    inline.shape[0] === 1 && inline.shape.length === itemShape.length + 1
      ? inline.shape.slice(1)
      : inline.shape;
  if (shape.length !== itemShape.length || shape.some((d, i) => d !== itemShape[i])) {
    throw new InputShapeMismatchError(inline.shape, itemShape);
  }
  return Float32Array.from(inline.data);
}
