import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { CorruptSnapshotError } from './errors.ts';

/** The shapes of the snapshots table's items, as this code writes them; a stored item that breaks one is corrupt. */

const version = z.number().int().positive();

const isoTime = z.string().min(1);

const StrategySchema = z.object({
  growth: z.enum(['linear', 'exponential']),
  canaryPercent: z.number().gt(0).max(100),
  stepPercent: z.number().gt(0).max(100),
  everyMs: z.number().int().positive(),
  bakeMs: z.number().int().nonnegative(),
  alarms: z.array(z.string().min(1)),
  startedAt: isoTime,
  lastStepAt: isoTime,
  alarmsUnknownSince: isoTime.optional(),
});

const RolloutSchema = z.object({
  version,
  percentage: z.number().min(0).max(100),
  match: z.record(z.string(), z.array(z.string())).optional(),
  strategy: StrategySchema.optional(),
});

const OutcomeSchema = z.object({
  version,
  outcome: z.enum(['promoted', 'rolled-back']),
  reason: z.enum(['baked', 'alarm', 'alarms-unknown', 'manual', 'superseded']),
  alarms: z.array(z.string()).optional(),
  percentage: z.number().min(0).max(100),
  at: isoTime,
  by: z.string(),
});

export const PointerItemSchema = z.object({
  name: z.string(),
  generation: z.number().int().positive(),
  stable: version,
  candidate: RolloutSchema.optional(),
  lastRollout: OutcomeSchema.optional(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});

export const SchemaItemSchema = z.object({
  name: z.string(),
  schema: z.string(),
  sha256: z.string().length(64),
  updatedAt: z.string(),
  updatedBy: z.string(),
});

export const ManifestItemSchema = z.object({
  name: z.string(),
  version,
  createdAt: z.string(),
  source: z.string(),
  schemaVersion: z.number().int(),
  sha256: z.string().length(64),
  bytes: z.number().int().nonnegative(),
  compression: z.enum(['gzip', 'br']),
  compressedSha256: z.string().length(64),
  compressedBytes: z.number().int().nonnegative(),
  chunkCount: z.number().int().positive(),
});

export function parseItem<T>(
  schema: z.ZodType<T>,
  item: Record<string, AttributeValue>,
  name: string,
  what: string,
): T {
  const parsed = schema.safeParse(unmarshall(item));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CorruptSnapshotError(name, `${what} item: ${issue?.path.join('.')}: ${issue?.message}`);
}
