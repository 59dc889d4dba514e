import { failureReason } from './errors.ts';

/** Counters since the sender was created; `stats` returns a copy. */
export interface SenderStats {
  /** Messages SQS accepted. */
  readonly sent: number;
  /** Messages that were not sent (rejected locally, by SQS, or after the last retry). */
  readonly failed: number;
  /** `failed` by reason: SQS's code for SQS rejections, else the error's `code` (e.g. MESSAGE_TOO_LARGE). */
  readonly failedByReason: Readonly<Record<string, number>>;
  /** SendMessageBatch calls, retries included. */
  readonly requests: number;
  /** Entries carried by those calls (an entry sent twice counts twice). */
  readonly requestEntries: number;
  /** Mean entries per SendMessageBatch call. */
  readonly entriesPerRequest: number;
  /** Entries sent again after a retryable failure (per-entry `Failed` or a failed request). */
  readonly retries: number;
  /** Whole requests that failed with a retryable error, by kind. */
  readonly requestErrors: Readonly<Record<'throttle' | 'server' | 'network', number>>;
  /** Most messages that were buffered (waiting for a request) at once. */
  readonly peakBuffered: number;
  /** Most requests in flight at once. */
  readonly peakInFlight: number;
}

/** Mutable counters behind `SenderStats`. */
export class StatsRecorder {
  sent = 0;
  failed = 0;
  requests = 0;
  requestEntries = 0;
  retries = 0;
  peakBuffered = 0;
  peakInFlight = 0;
  private readonly byReason = new Map<string, number>();
  private readonly errors = { throttle: 0, server: 0, network: 0 };

  recordFailure(error: unknown): void {
    this.failed++;
    const reason = failureReason(error);
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
  }

  recordRequestError(kind: 'throttle' | 'server' | 'network'): void {
    this.errors[kind]++;
  }

  snapshot(): SenderStats {
    return {
      sent: this.sent,
      failed: this.failed,
      failedByReason: Object.fromEntries(this.byReason),
      requests: this.requests,
      requestEntries: this.requestEntries,
      entriesPerRequest: this.requests === 0 ? 0 : this.requestEntries / this.requests,
      retries: this.retries,
      requestErrors: { ...this.errors },
      peakBuffered: this.peakBuffered,
      peakInFlight: this.peakInFlight,
    };
  }
}
