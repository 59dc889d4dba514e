import type { z } from 'zod';
import { PipelineError } from './errors.ts';

/** Helpers for the `env.ts` files that read `process.env`; everything else receives typed values. */

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

/** `AWS_ENDPOINT_URL` (one endpoint for every service, e.g. LocalStack) when set. */
export function sharedEndpointUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_ENDPOINT_URL || undefined;
}
