/**
 * `pipeline dlq inspect`: peeks at every message of a dead-letter queue (received and handed back,
 * never deleted), counts them by `ErrorCode` and keeps a few samples of each code. Bodies are
 * measured, never kept, unless `--show-body` asks for a truncated preview.
 */

import type { SQSClient } from '@aws-sdk/client-sqs';
import type { CliIo } from '../io.ts';
import type { InspectFlags } from './flags.ts';
import { codeLabel, type LetterInfo, letterOf } from './letters.ts';
import { resolveDlq } from './queues.ts';
import { Receiver } from './receive.ts';
import { queueDepth } from './sqs.ts';
import { releaseMessages } from './visibility.ts';

/** One code's share of the DLQ. */
export interface CodeReport {
  /** `ErrorCode`, or `none` for messages SQS moved after maxReceiveCount. */
  readonly code: string;
  readonly count: number;
  readonly samples: readonly Sample[];
}

export interface Sample extends LetterInfo {
  /** The first `--body-chars` characters of the body, only with `--show-body`. */
  readonly bodyPreview?: string;
  /** The preview is shorter than the body. */
  readonly bodyTruncated?: boolean;
}

/** What `inspect` prints (`--json`: this object, one line). */
export interface InspectReport {
  readonly queueUrl: string;
  /** `ApproximateNumberOfMessages` before the peek. */
  readonly approximateMessages: number;
  /** `ApproximateNumberOfMessagesNotVisible` before the peek (received by someone else). */
  readonly approximateInFlight: number;
  /** Messages this peek received. */
  readonly inspected: number;
  /** Every visible message was seen (not cut short by `--limit` or Ctrl-C). */
  readonly complete: boolean;
  /** Most frequent first. */
  readonly codes: readonly CodeReport[];
}

export interface PeekOptions {
  readonly samples: number;
  /** Characters of body to keep per sample; `undefined`: none. */
  readonly bodyChars?: number;
  readonly limit: number;
  readonly visibilityTimeoutS: number;
  readonly signal?: AbortSignal;
}

/** Peeks at `queueUrl` and hands every message back (visibility timeout 0) before resolving. */
export async function inspectQueue(
  client: SQSClient,
  queueUrl: string,
  options: PeekOptions,
): Promise<InspectReport> {
  const depth = await queueDepth(client, queueUrl);
  const receiver = new Receiver({ client, queueUrl, visibilityTimeoutS: options.visibilityTimeoutS });
  const byCode = new Map<string, { count: number; samples: Sample[] }>();
  let inspected = 0;
  let complete = false;
  try {
    while (inspected < options.limit && !options.signal?.aborted) {
      const batch = await receiver.next(options.limit - inspected);
      if (batch === undefined) {
        complete = true;
        break;
      }
      for (const message of batch) {
        inspected++;
        const letter = letterOf(message);
        const entry = byCode.get(letter.code) ?? { count: 0, samples: [] };
        entry.count++;
        if (entry.samples.length < options.samples) {
          entry.samples.push(
            options.bodyChars === undefined
              ? letter
              : {
                  ...letter,
                  bodyPreview: (message.Body ?? '').slice(0, options.bodyChars),
                  bodyTruncated: (message.Body ?? '').length > options.bodyChars,
                },
          );
        }
        byCode.set(letter.code, entry);
      }
    }
  } finally {
    await releaseMessages(client, queueUrl, receiver.receiptHandles);
  }
  const codes = [...byCode.entries()]
    .map(([code, { count, samples }]) => ({ code, count, samples }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return {
    queueUrl,
    approximateMessages: depth.visible,
    approximateInFlight: depth.inFlight,
    inspected,
    complete,
    codes,
  };
}

/** Runs `inspect` with its flags and prints the report. */
export async function runInspect(flags: InspectFlags, io: CliIo): Promise<InspectReport> {
  const target = await resolveDlq(flags, io.cwd);
  try {
    const report = await inspectQueue(target.client, target.dlqUrl, {
      samples: flags.samples,
      ...(flags.showBody ? { bodyChars: flags.bodyChars } : {}),
      limit: flags.limit,
      visibilityTimeoutS: flags.visibilityTimeout,
      ...(io.signal ? { signal: io.signal } : {}),
    });
    io.stdout.write(formatInspectReport(report, flags.json === true));
    return report;
  } finally {
    target.client.destroy();
  }
}

/** The report as one JSON line, or as lines for people. */
export function formatInspectReport(report: InspectReport, json: boolean): string {
  if (json) return `${JSON.stringify(report)}\n`;
  const n = (value: number) => value.toLocaleString('en-US');
  const lines = [
    `${report.queueUrl}: ${n(report.approximateMessages)} message(s) waiting, ${n(report.approximateInFlight)} in flight (approximate)`,
    `inspected ${n(report.inspected)}${report.complete ? '' : ' (stopped early: --limit or Ctrl-C; counts cover these only)'}`,
  ];
  if (report.codes.length === 0) lines.push('no messages');
  const width = Math.max(...report.codes.map((c) => codeLabel(c.code).length), 4);
  for (const { code, count } of report.codes) lines.push(`  ${codeLabel(code).padEnd(width)}  ${n(count)}`);
  for (const { code, samples } of report.codes) {
    if (samples.length === 0) continue;
    lines.push('', `${codeLabel(code)}:`);
    for (const s of samples) {
      const facts = [
        `${n(s.bodyBytes)} B`,
        s.sentAt && `sent ${s.sentAt}`,
        s.receiveCount !== undefined && `received ${s.receiveCount}×`,
        s.messageGroupId && `group ${s.messageGroupId}`,
        s.sourceMessageId && `source ${s.sourceMessageId}`,
      ].filter(Boolean);
      lines.push(`  ${s.messageId}  ${facts.join(', ')}`);
      if (s.errorMessage !== undefined) lines.push(`    ${s.errorMessage}`);
      if (s.bodyPreview !== undefined) {
        lines.push(`    body: ${JSON.stringify(s.bodyPreview)}${s.bodyTruncated ? '…' : ''}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
