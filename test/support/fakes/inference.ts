import type { SQSRecord } from 'aws-lambda';
import { vi } from 'vitest';
import type {
  InferenceBackend,
  InferenceOutput,
  LoadedModel,
  ModelRef,
} from '../../../functions/gpu-worker/backends/types.ts';
import type {
  ReceivedMessage,
  ReceivedTrace,
  WorkSource,
} from '../../../functions/gpu-worker/work-source.ts';
import type { DeadLetter } from '../../../shared/pipeline/dead-letter.ts';
import { GpuOutOfMemoryError, ModelNotFoundError } from '../../../shared/pipeline/inference/errors.ts';
import type { WorkJob } from '../../../shared/pipeline/inference/work-message.ts';
import { encodeWorkMessage } from '../../../shared/pipeline/inference/work-message.ts';
import type { SendEntry } from '../../../shared/sqs/limits.ts';
import type { Outcome, WriteRequest, WriteResult } from '../../../shared/write-batcher/types.ts';
import { emptyStats } from '../../../shared/write-batcher/write-batcher.ts';
import { sqsRecord } from '../factories/sqs.ts';

/** A valid inference request body for `jobId` (a 2×2 input unless given). */
export function request(jobId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { jobId, model: 'tiny', input: { shape: [2, 2], data: [0.1, 0.2, 0.3, 0.4] }, ...overrides };
}

export function requestRecord(jobId: string, overrides: Record<string, unknown> = {}): SQSRecord {
  return sqsRecord(request(jobId, overrides));
}

/** A work job for the fake 2×2 model. */
export function workJob(jobId: string, data: number[] = [1, 2, 3, 4], model = 'tiny'): WorkJob {
  return { jobId, model, modelVersion: '1', queuedAt: 1_000, input: { shape: [2, 2], data } };
}

/**
 * Job records with the WriteBatcher's version guard: a put replaces the stored item only with a
 * strictly higher version, otherwise `stale`. `failFor` makes writes of chosen jobs come back
 * retryable.
 */
export class FakeJobStore {
  readonly items = new Map<string, { version: number; item: Record<string, unknown> }>();
  readonly requests: WriteRequest[] = [];
  failFor: (request: WriteRequest) => boolean = () => false;
  flushes = 0;

  apply(request: WriteRequest): Outcome {
    this.requests.push(request);
    if (this.failFor(request)) return { status: 'retryable', reason: 'deadline', detail: 'injected' };
    if (request.op !== 'put') throw new Error('only puts');
    const key = String(request.item.jobId);
    const version = request.version ?? 0;
    const stored = this.items.get(key);
    if (stored && stored.version >= version) return { status: 'stale' };
    this.items.set(key, { version, item: { ...request.item } });
    return { status: 'written' };
  }

  async writeAll(requests: readonly WriteRequest[]): Promise<WriteResult> {
    return { outcomes: requests.map((r) => this.apply(r)), stats: emptyStats(requests.length) };
  }

  async add(request: WriteRequest): Promise<Outcome> {
    await Promise.resolve();
    return this.apply(request);
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  status(jobId: string): unknown {
    return this.items.get(jobId)?.item.status;
  }
}

export class FakeSink {
  readonly sent: SendEntry[] = [];
  fail = false;

  async send(entry: SendEntry): Promise<unknown> {
    if (this.fail) throw new Error('send refused');
    this.sent.push(entry);
    return { messageId: String(this.sent.length) };
  }

  jobs(): WorkJob[] {
    return this.sent.flatMap((e) => (JSON.parse(e.body) as { jobs: WorkJob[] }).jobs);
  }
}

export class FakeDeadLetters {
  readonly letters: DeadLetter[] = [];
  accept = true;

  async send(letters: readonly DeadLetter[]): Promise<boolean[]> {
    if (this.accept) this.letters.push(...letters);
    return letters.map(() => this.accept);
  }
}

/** An in-memory gpu-work queue: messages are handed out once; deletes and visibility changes are recorded. */
export class FakeWorkSource implements WorkSource {
  private readonly waiting: ReceivedMessage[] = [];
  readonly deleted: string[] = [];
  readonly visibility: { messageId: string; seconds: number }[] = [];
  /** Every delete or visibility call, as made: one entry per batch call. */
  readonly calls: { op: 'delete' | 'changeVisibility'; messageIds: string[]; seconds?: number }[] = [];
  private next = 0;

  push(jobs: readonly WorkJob[], receiveCount = 1, trace?: ReceivedTrace): ReceivedMessage {
    return this.pushBody(encodeWorkMessage(jobs), receiveCount, trace);
  }

  pushBody(body: string, receiveCount = 1, trace?: ReceivedTrace): ReceivedMessage {
    const message = {
      messageId: `m${++this.next}`,
      receiptHandle: `r${this.next}`,
      body,
      receiveCount,
      ...(trace ? { trace } : {}),
    };
    this.waiting.push(message);
    return message;
  }

  /** Receive calls so far. */
  receives = 0;

  async receive(max: number, _waitSeconds: number, signal: AbortSignal): Promise<ReceivedMessage[]> {
    this.receives++;
    if (this.waiting.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (signal.aborted) return [];
    return this.waiting.splice(0, max);
  }

  async delete(messages: readonly ReceivedMessage[]): Promise<string[]> {
    this.calls.push({ op: 'delete', messageIds: messages.map((m) => m.messageId) });
    this.deleted.push(...messages.map((m) => m.messageId));
    return [];
  }

  async changeVisibility(messages: readonly ReceivedMessage[], seconds: number): Promise<string[]> {
    this.calls.push({ op: 'changeVisibility', messageIds: messages.map((m) => m.messageId), seconds });
    this.visibility.push(...messages.map((m) => ({ messageId: m.messageId, seconds })));
    return [];
  }
}

export interface FakeBackendOptions {
  /** Batches larger than this throw GpuOutOfMemoryError. */
  readonly memoryLimit?: number;
  /** Each batch takes this long. */
  readonly delayMs?: number;
  /** Throw this on every batch. */
  readonly failWith?: () => Error;
}

/** A 2×2 → 2 "model": output row = [sum of the inputs, max of the inputs]. */
export class FakeBackend implements InferenceBackend {
  readonly name = 'onnx' as const;
  readonly batches: number[] = [];
  /** Resolves the batch in progress when `delayMs` is Infinity. */
  release: (() => void) | undefined;

  constructor(
    public options: FakeBackendOptions = {},
    private readonly known: readonly string[] = ['tiny'],
  ) {}

  async load(ref: ModelRef): Promise<LoadedModel> {
    if (!this.known.includes(ref.name))
      throw new ModelNotFoundError(ref.name, ref.version, 'fake repository');
    const backend = this;
    return {
      ref,
      itemShape: [2, 2],
      device: 'cpu',
      loadMs: 1,
      async infer(inputs: Float32Array, batchSize: number): Promise<InferenceOutput> {
        if (backend.options.failWith) throw backend.options.failWith();
        if (batchSize > (backend.options.memoryLimit ?? Number.POSITIVE_INFINITY))
          throw new GpuOutOfMemoryError(batchSize);
        backend.batches.push(batchSize);
        const delay = backend.options.delayMs ?? 0;
        if (delay === Number.POSITIVE_INFINITY)
          await new Promise<void>((resolve) => (backend.release = resolve));
        else if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        const data = new Float32Array(batchSize * 2);
        for (let i = 0; i < batchSize; i++) {
          const row = inputs.subarray(i * 4, i * 4 + 4);
          data[i * 2] = row.reduce((a, b) => a + b, 0);
          data[i * 2 + 1] = Math.max(...row);
        }
        return { data, itemShape: [2] };
      },
      dispose: vi.fn(async () => undefined),
    };
  }
}

export const silentLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Resolves once `predicate` holds (checked every few ms), or rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
