import { z } from 'zod';
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

export class ConfigurationError extends Error {
  readonly code = 'CONFIGURATION';
  override readonly name = 'ConfigurationError';
}

/** Reads and validates the batch writer's environment; throws `ConfigurationError` naming the bad variable. */
export function batchWriterEnv(env: NodeJS.ProcessEnv = process.env): BatchWriterEnv {
  const parsed = BatchWriterEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(`environment variable ${String(issue?.path[0])}: ${issue?.message}`);
  }
  let routesJson: unknown;
  try {
    routesJson = JSON.parse(parsed.data.TABLE_ROUTES);
  } catch (cause) {
    throw new ConfigurationError('environment variable TABLE_ROUTES is not valid JSON', { cause });
  }
  const routes = RoutesSchema.safeParse(routesJson);
  if (!routes.success) {
    const issue = routes.error.issues[0];
    throw new ConfigurationError(`TABLE_ROUTES.${issue?.path.join('.')}: ${issue?.message}`);
  }
  return {
    routes: routes.data,
    dlqUrl: parsed.data.DLQ_URL,
    maxConcurrency: parsed.data.MAX_CONCURRENCY,
    deadlineMarginMs: parsed.data.DEADLINE_MARGIN_MS,
  };
}

/** `AWS_ENDPOINT_URL` (one endpoint for every service, e.g. LocalStack) when set. */
export function sharedEndpointUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_ENDPOINT_URL || undefined;
}
