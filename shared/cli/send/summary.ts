/**
 * The final report of `pipeline send`: built from the producer's stats, printed as text or, with
 * `--json`, as one line of JSON (a stable shape scripts rely on).
 */

import type { SenderStats } from '../../sqs/index.ts';

/** The final report of `pipeline send` (`--json` prints it as one line). */
export interface SendSummary {
  readonly queueUrl: string;
  /** The file path, `stdin`, or `synthetic`. */
  readonly source: string;
  readonly seed?: number;
  /** Messages SQS accepted (synthetic invalid ones included). */
  readonly sent: number;
  readonly failed: number;
  readonly failedByReason: Readonly<Record<string, number>>;
  /** Synthetic messages sent invalid on purpose (`--invalid-rate`), for the batch writer's DLQ. */
  readonly invalidSent: number;
  readonly elapsedMs: number;
  readonly msgsPerSec: number;
  readonly requests: number;
  readonly entriesPerRequest: number;
  readonly retries: number;
  /** Stopped by Ctrl-C: what was read before it was sent, nothing after. */
  readonly interrupted: boolean;
  /** The trace id every message carried (`--traceparent`, or the run's span when exporting). */
  readonly traceId?: string;
}

/** What a run knows when it ends, besides the producer's stats. */
export interface RunFacts {
  readonly queueUrl: string;
  readonly source: string;
  /** The synthetic workload's seed; absent for a file or stdin. */
  readonly seed?: number;
  readonly invalidSent: number;
  readonly elapsedMs: number;
  readonly interrupted: boolean;
  readonly traceId?: string;
}

/** The summary of a run, rounded for people (whole ms and msgs/s, entries/request to 2 places). */
export function summarize(stats: SenderStats, run: RunFacts): SendSummary {
  return {
    queueUrl: run.queueUrl,
    source: run.source,
    ...(run.seed === undefined ? {} : { seed: run.seed }),
    sent: stats.sent,
    failed: stats.failed,
    failedByReason: stats.failedByReason,
    invalidSent: run.invalidSent,
    elapsedMs: Math.round(run.elapsedMs),
    msgsPerSec: Math.round((stats.sent / Math.max(run.elapsedMs, 1)) * 1000),
    requests: stats.requests,
    entriesPerRequest: Math.round(stats.entriesPerRequest * 100) / 100,
    retries: stats.retries,
    interrupted: run.interrupted,
    ...(run.traceId === undefined ? {} : { traceId: run.traceId }),
  };
}

/** The summary as `--json` prints it (one line) or as lines for people. */
export function formatSummary(s: SendSummary, json: boolean): string {
  if (json) return `${JSON.stringify(s)}\n`;
  const n = (value: number) => value.toLocaleString('en-US');
  const reasons = Object.entries(s.failedByReason)
    .map(([reason, count]) => `${reason} ×${n(count)}`)
    .join(', ');
  const lines = [
    `${s.interrupted ? 'interrupted: ' : ''}sent ${n(s.sent)} message(s) to ${s.queueUrl} in ${(s.elapsedMs / 1000).toFixed(2)} s (${n(s.msgsPerSec)} msgs/s)`,
    `failed ${n(s.failed)}${reasons ? `: ${reasons}` : ''}`,
    `requests ${n(s.requests)} (${s.entriesPerRequest.toFixed(2)} entries/request), retries ${n(s.retries)}`,
  ];
  if (s.invalidSent > 0) lines.push(`invalid on purpose (for the DLQ path): ${n(s.invalidSent)}`);
  if (s.traceId !== undefined) lines.push(`trace ${s.traceId}`);
  return `${lines.join('\n')}\n`;
}
