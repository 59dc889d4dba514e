import { z } from 'zod';
import { InvalidInferenceRequestError } from './errors.ts';

/**
 * Inference request contract: the JSON body of one `inference-requests` message.
 *
 * @example
 * { "jobId": "order-42/photo-1", "model": "shelf-classifier", "input": { "shape": [3, 32, 32], "data": [0.1, …] } }
 * { "jobId": "order-42/photo-2", "model": "shelf-classifier", "input": { "s3Uri": "s3://bucket/key.json" } }
 *
 * Inline inputs are bounded by SQS's 1 MiB message limit; larger inputs go to S3 as a
 * `{ "shape": [..], "data": [..] }` JSON document.
 */

/** 1-128 characters of A-Z a-z 0-9 _ . : / - (it becomes a DynamoDB key and a log field). */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_.:/-]{1,128}$/;
const MODEL_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const S3_URI_PATTERN = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+$/;
/** Largest tensor rank accepted. */
const MAX_RANK = 8;

function isFiniteNumberArray(value: unknown): value is number[] {
  if (!Array.isArray(value)) return false;
  for (const x of value) if (typeof x !== 'number' || !Number.isFinite(x)) return false;
  return true;
}

export const InlineInputSchema = z
  .strictObject({
    shape: z
      .array(z.number().int('dimensions must be integers').positive('dimensions must be ≥ 1'))
      .min(1, 'must have at least one dimension')
      .max(MAX_RANK, `must have at most ${MAX_RANK} dimensions`),
    // One loop instead of a schema per element: a 3×32×32 image is 3072 numbers, and the worker
    // validates every job it receives.
    data: z.custom<number[]>(isFiniteNumberArray, { message: 'must be an array of finite numbers' }),
  })
  .superRefine((input, ctx) => {
    const expected = input.shape.reduce((product, d) => product * d, 1);
    if (expected !== input.data.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: `has ${input.data.length} values; shape [${input.shape.join(', ')}] needs ${expected}`,
      });
    }
  });

export const S3InputSchema = z.strictObject({
  s3Uri: z.string().regex(S3_URI_PATTERN, 'must be s3://<bucket>/<key>'),
});

export const InferenceRequestSchema = z.strictObject({
  jobId: z.string().regex(JOB_ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 _ . : / -'),
  model: z.string().regex(MODEL_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ . -'),
  input: z.union([InlineInputSchema, S3InputSchema], {
    error: 'must be { shape, data } or { s3Uri }',
  }),
});

export type InlineInput = z.infer<typeof InlineInputSchema>;
export type S3Input = z.infer<typeof S3InputSchema>;
export type JobInput = InlineInput | S3Input;
export type InferenceRequest = z.infer<typeof InferenceRequestSchema>;

export function isS3Input(input: JobInput): input is S3Input {
  return 's3Uri' in input;
}

/** Validates an already-parsed value; throws `InvalidInferenceRequestError` naming the bad field. */
export function validateInferenceRequest(value: unknown): InferenceRequest {
  const result = InferenceRequestSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InvalidInferenceRequestError(issue.path.map(String).join('.'), issue.message);
}

/** Parses an SQS body (JSON text) into an inference request. */
export function parseInferenceRequest(body: string): InferenceRequest {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new InvalidInferenceRequestError('', `body is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  return validateInferenceRequest(value);
}

/**
 * The `jobId` of a body that failed validation, when it has a usable one: such requests still get
 * a `FAILED` record so the caller can see why.
 */
export function salvageJobId(body: string): string | undefined {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null) return undefined;
    const jobId = (value as { jobId?: unknown }).jobId;
    return typeof jobId === 'string' && JOB_ID_PATTERN.test(jobId) ? jobId : undefined;
  } catch {
    return undefined;
  }
}
