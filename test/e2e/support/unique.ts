import { randomUUID } from 'node:crypto';

/**
 * A prefix for every key, logical table, job id and config path one test creates, so that reruns
 * against a long-lived deployment never meet an earlier run's data: `e2e-<name>-<8 hex>`.
 */
export function uniquePrefix(name: string): string {
  return `e2e-${name}-${randomUUID().slice(0, 8)}`;
}
