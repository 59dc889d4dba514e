import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import { encodeWorkMessage, modelKey, type WorkJob } from '../../shared/pipeline/inference/work-message.ts';

export interface PackingLimits {
  /** Most jobs per work message. @default inferenceSettings.workMessage.maxJobs (16) */
  readonly maxJobs?: number;
  /** Byte budget per work message; a larger single job travels alone. @default 256 KiB */
  readonly maxBytes?: number;
}

/** One work message to send and whatever the caller tracks per job (e.g. its SQS record). */
export interface PackedMessage<T> {
  readonly body: string;
  readonly jobs: readonly WorkJob[];
  readonly owners: readonly T[];
}

// `{"v":1,"jobs":[` … `]}` plus a comma per job.
const ENVELOPE_BYTES = 16;

/**
 * Packs jobs into GPU-friendly work messages: jobs of the same model version travel together (the
 * worker batches them into one inference call), up to `maxJobs` and `maxBytes` per message. Order
 * within a model version is kept.
 */
export function packWorkMessages<T>(
  items: readonly { readonly job: WorkJob; readonly owner: T }[],
  limits: PackingLimits = {},
): PackedMessage<T>[] {
  const maxJobs = limits.maxJobs ?? inferenceSettings.workMessage.maxJobs;
  const maxBytes = limits.maxBytes ?? inferenceSettings.workMessage.maxBytes;
  const groups = new Map<string, { job: WorkJob; owner: T; bytes: number }[]>();
  for (const { job, owner } of items) {
    const key = modelKey(job.model, job.modelVersion);
    const group = groups.get(key) ?? [];
    group.push({ job, owner, bytes: Buffer.byteLength(JSON.stringify(job), 'utf8') + 1 });
    groups.set(key, group);
  }
  const messages: PackedMessage<T>[] = [];
  for (const group of groups.values()) {
    let current: typeof group = [];
    let bytes = ENVELOPE_BYTES;
    const close = () => {
      if (current.length === 0) return;
      const jobs = current.map((c) => c.job);
      messages.push({ body: encodeWorkMessage(jobs), jobs, owners: current.map((c) => c.owner) });
      current = [];
      bytes = ENVELOPE_BYTES;
    };
    for (const entry of group) {
      if (current.length >= maxJobs || (current.length > 0 && bytes + entry.bytes > maxBytes)) close();
      current.push(entry);
      bytes += entry.bytes;
    }
    close();
  }
  return messages;
}
