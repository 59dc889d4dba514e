import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { InvalidContextError } from './constructs/errors.ts';
import type { WritePathProps } from './constructs/write-path.ts';
import type { GpuInferenceStackProps } from './stacks/gpu-inference-stack.ts';

/**
 * Sizing the app takes from CDK context, e.g. what `pipeline advise --context-file` writes: the
 * context keys `writePath` and `gpuInference` (objects in `cdk.json`/`cdk.context.json`, JSON text
 * with `-c`), or a file named by `-c contextFile=<path>` that holds both keys. A key given directly
 * wins over the file's.
 *
 * @example npx cdk synth -c contextFile=advice.context.json
 * @example npx cdk synth -c 'writePath={"batchSize":500,"maxConcurrency":40}'
 */
export const WritePathContextSchema = z.strictObject({
  batchSize: z.int().min(1).max(10_000).optional(),
  maxBatchingWindowSeconds: z.number().min(0).max(300).optional(),
  maxConcurrency: z.int().min(2).max(1000).optional(),
  provisionedPollers: z.strictObject({ minimum: z.int().optional(), maximum: z.int() }).optional(),
  memoryMiB: z.int().min(128).max(10_240).optional(),
  writeConcurrency: z.int().min(1).max(256).optional(),
  tableWarmThroughput: z
    .strictObject({ writeUnitsPerSecond: z.int().optional(), readUnitsPerSecond: z.int().optional() })
    .optional(),
});
export type WritePathContext = z.infer<typeof WritePathContextSchema>;

export const GpuInferenceContextSchema = z.strictObject({
  messagesPerTask: z.int().min(1).max(1_000_000).optional(),
  maxInstances: z.int().min(1).max(100).optional(),
});
export type GpuInferenceContext = z.infer<typeof GpuInferenceContextSchema>;

const ContextFileSchema = z.strictObject({
  /** Where the file came from, for people (`pipeline advise` says what it analysed). */
  $comment: z.string().optional(),
  writePath: z.unknown().optional(),
  gpuInference: z.unknown().optional(),
});

/** `WritePathProps` from the context (`writePath`, else the context file's); none when neither is set. */
export function writePathContextProps(scope: IConstruct): WritePathProps {
  const context = read(scope, 'writePath', WritePathContextSchema);
  if (context === undefined) return {};
  const { maxBatchingWindowSeconds, ...rest } = context;
  return {
    ...rest,
    ...(maxBatchingWindowSeconds === undefined
      ? {}
      : { maxBatchingWindow: Duration.seconds(maxBatchingWindowSeconds) }),
  };
}

/** The GPU stack's sizing from the context (`gpuInference`, else the context file's). */
export function gpuInferenceContextProps(
  scope: IConstruct,
): Pick<GpuInferenceStackProps, 'messagesPerTask' | 'maxInstances'> {
  return read(scope, 'gpuInference', GpuInferenceContextSchema) ?? {};
}

function read<S extends z.ZodType>(
  scope: IConstruct,
  key: 'writePath' | 'gpuInference',
  schema: S,
): z.output<S> | undefined {
  let value: unknown = scope.node.tryGetContext(key);
  let where: string = key;
  if (value === undefined) {
    const file = contextFile(scope);
    if (file === undefined) return undefined;
    value = file.values[key];
    where = `${key} (in ${file.path})`;
  }
  if (value === undefined) return undefined;
  if (typeof value === 'string') value = parseJson(where, value);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = [key, ...issue.path.map(String)].join('.');
    throw new InvalidContextError(path, valueAt(value, issue.path), issue.message);
  }
  return parsed.data;
}

function contextFile(
  scope: IConstruct,
): { path: string; values: z.infer<typeof ContextFileSchema> } | undefined {
  const path: unknown = scope.node.tryGetContext('contextFile');
  if (path === undefined) return undefined;
  if (typeof path !== 'string' || path === '')
    throw new InvalidContextError('contextFile', path, 'a file path');
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (cause) {
    throw new InvalidContextError('contextFile', path, `a readable JSON file (${(cause as Error).message})`);
  }
  const parsed = ContextFileSchema.safeParse(parseJson(`contextFile ${path}`, text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as { keys?: string[]; path: PropertyKey[] };
    throw new InvalidContextError(
      `contextFile ${path}`,
      issue.keys ?? issue.path.map(String),
      'an object with only the keys writePath, gpuInference and $comment',
    );
  }
  return { path, values: parsed.data };
}

function parseJson(where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidContextError(where, text.slice(0, 80), 'JSON');
  }
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let here = value;
  for (const key of path)
    here =
      here !== null && typeof here === 'object' ? (here as Record<PropertyKey, unknown>)[key] : undefined;
  return here;
}
