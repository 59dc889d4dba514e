import { z } from 'zod';
import { PipelineError } from './errors.ts';
import { type RoutesConfig, RoutesSchema } from './routing.ts';
import { writePathSettings } from './settings.ts';

/** The one place that reads `process.env`. Everything else receives typed values. */

const BatchWriterEnvSchema = z.object({
  TABLE_ROUTES: z.string().min(2),
  DLQ_URL: z.string().url(),
  MAX_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(writePathSettings.function.maxConcurrency),
  DEADLINE_MARGIN_MS: z.coerce.number().int().min(0).default(writePathSettings.function.deadlineMarginMs),
});

export interface BatchWriterEnv {
  readonly routes: RoutesConfig;
  readonly dlqUrl: string;
  readonly maxConcurrency: number;
  readonly deadlineMarginMs: number;
}

/** A function's environment is missing a variable or holds a bad value; the message names which. */
export class ConfigurationError extends PipelineError {
  readonly code = 'CONFIGURATION';
}

/** Validates environment variables with `schema`; throws `ConfigurationError` naming the first bad one. */
export function parseEnv<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv): T {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigurationError(`environment variable ${String(issue?.path[0])}: ${issue?.message}`);
}

/** Parses a variable holding JSON and validates it; errors name the variable and the path inside it. */
export function parseJsonVariable<T>(name: string, text: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigurationError(`environment variable ${name} is not valid JSON`, { cause });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.length ? `.${issue.path.join('.')}` : '';
  throw new ConfigurationError(`environment variable ${name}${path}: ${issue?.message}`);
}

/** Reads and validates the batch writer's environment; throws `ConfigurationError` naming the bad variable. */
export function batchWriterEnv(env: NodeJS.ProcessEnv = process.env): BatchWriterEnv {
  const e = parseEnv(BatchWriterEnvSchema, env);
  return {
    routes: parseJsonVariable('TABLE_ROUTES', e.TABLE_ROUTES, RoutesSchema),
    dlqUrl: e.DLQ_URL,
    maxConcurrency: e.MAX_CONCURRENCY,
    deadlineMarginMs: e.DEADLINE_MARGIN_MS,
  };
}

/** `AWS_ENDPOINT_URL` (one endpoint for every service, e.g. LocalStack) when set. */
export function sharedEndpointUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_ENDPOINT_URL || undefined;
}
