import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import {
  encodeWorkMessage,
  JOB_TRACES_OVERHEAD_BYTES,
  type JobTrace,
  jobTraceBytes,
  modelKey,
  type WorkJob,
} from '../../shared/pipeline/inference/work-message.ts';

export interface PackingLimits {
  /** Most jobs per work message. @default inferenceSettings.workMessage.maxJobs (16) */
  readonly maxJobs?: number;
  /** Byte budget per work message (its job traces included); a larger single job travels alone. @default 256 KiB */
  readonly maxBytes?: number;
}

/** One job to pack, whatever the caller tracks with it (e.g. its SQS record), and its trace context. */
export interface PackItem<T> {
  readonly job: WorkJob;
  readonly owner: T;
  readonly trace?: JobTrace;
}

/** One work message to send and whatever the caller tracks per job (e.g. its SQS record). */
export interface PackedMessage<T> {
  readonly body: string;
  readonly jobs: readonly WorkJob[];
  readonly owners: readonly T[];
  /**
   * The jobs' trace contexts, index-aligned with `jobs`, for `JOB_TRACES_ATTRIBUTE`; absent when
   * none of them has one.
   */
  readonly traces?: readonly (JobTrace | undefined)[];
}

// `{"v":1,"jobs":[` … `]}` plus a comma per job.
const ENVELOPE_BYTES = 16;

/**
 * Packs jobs into GPU-friendly work messages: jobs of the same model version travel together (the
 * worker batches them into one inference call), up to `maxJobs` and `maxBytes` per message (body
 * and job-traces attribute together). Order within a model version is kept.
 */
export function packWorkMessages<T>(
  items: readonly PackItem<T>[],
  limits: PackingLimits = {},
): PackedMessage<T>[] {
  const maxJobs = limits.maxJobs ?? inferenceSettings.workMessage.maxJobs;
  const maxBytes = limits.maxBytes ?? inferenceSettings.workMessage.maxBytes;
  const traced = items.some((item) => item.trace !== undefined);
  // Every message of a traced batch may carry the attribute: reserve its envelope in each.
  const envelope = ENVELOPE_BYTES + (traced ? JOB_TRACES_OVERHEAD_BYTES : 0);
  const groups = new Map<string, (PackItem<T> & { bytes: number })[]>();
  for (const item of items) {
    const key = modelKey(item.job.model, item.job.modelVersion);
    const group = groups.get(key) ?? [];
    const jobBytes = Buffer.byteLength(JSON.stringify(item.job), 'utf8') + 1;
    group.push({ ...item, bytes: jobBytes + (traced ? jobTraceBytes(item.trace) : 0) });
    groups.set(key, group);
  }
  const messages: PackedMessage<T>[] = [];
  for (const group of groups.values()) {
    let current: typeof group = [];
    let bytes = envelope;
    const close = () => {
      if (current.length === 0) return;
      const jobs = current.map((c) => c.job);
      const traces = current.some((c) => c.trace !== undefined) ? current.map((c) => c.trace) : undefined;
      messages.push({
        body: encodeWorkMessage(jobs),
        jobs,
        owners: current.map((c) => c.owner),
        ...(traces ? { traces } : {}),
      });
      current = [];
      bytes = envelope;
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
