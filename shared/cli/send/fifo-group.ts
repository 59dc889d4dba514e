/**
 * FIFO message group and deduplication IDs for `pipeline send`: each item's messages share one group
 * (so they stay in order), spread over `--fifo-groups` groups by a stable hash of the item's key.
 */

import { randomUUID } from 'node:crypto';
import type { Message } from '../../contract/index.ts';
import { writePathSettings } from '../../pipeline/settings.ts';
import type { MessageOptions } from '../../sqs/index.ts';

/** Message groups of a FIFO queue when `--fifo-groups` is not given. */
export const DEFAULT_FIFO_GROUPS = 16;

/** What identifies the written item, for FIFO grouping: each key's messages stay in one group, in order. */
export function keyOf(message: Message): string {
  const { partitionKey, sortKey } = writePathSettings.table;
  const attributes: Readonly<Record<string, unknown>> = message.op === 'put' ? message.item : message.key;
  return JSON.stringify([message.table ?? '', attributes[partitionKey] ?? null, attributes[sortKey] ?? null]);
}

/**
 * The IDs of the `seq`-th message of one run: none for a standard queue; for a FIFO queue the group
 * of its key and a deduplication ID unique to this run.
 */
export function fifoMessageIds(
  fifo: boolean,
  groups = DEFAULT_FIFO_GROUPS,
): (key: string, seq: number) => MessageOptions {
  const runId = randomUUID().slice(0, 8);
  return (key, seq) => (fifo ? { groupId: `g${fnv1a(key) % groups}`, dedupId: `${runId}-${seq}` } : {});
}

/** 32-bit FNV-1a: a stable spread of keys over FIFO groups. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
