import { describe, expect, it } from 'vitest';
import { formatSummary, summarize } from '../../../../../shared/cli/send/summary.ts';
import type { SenderStats } from '../../../../../shared/sqs/producer.ts';

const stats: SenderStats = {
  sent: 1500,
  failed: 2,
  failedByReason: { MessageTooLong: 2 },
  requests: 151,
  requestEntries: 1502,
  entriesPerRequest: 9.9471,
  retries: 3,
  requestErrors: { throttle: 1, server: 0, network: 0 },
  peakBuffered: 10,
  peakInFlight: 8,
};
const run = {
  queueUrl: 'http://127.0.0.1:9/123456789012/ingest',
  source: 'synthetic',
  seed: 7,
  invalidSent: 0,
  elapsedMs: 1234.4,
  interrupted: false,
};

describe('summarize', () => {
  it('rounds the timings and rates and keeps the seed of a synthetic run', () => {
    // Act
    const summary = summarize(stats, run);
    // Assess
    expect(summary).toEqual({
      queueUrl: run.queueUrl,
      source: 'synthetic',
      seed: 7,
      sent: 1500,
      failed: 2,
      failedByReason: { MessageTooLong: 2 },
      invalidSent: 0,
      elapsedMs: 1234,
      msgsPerSec: 1215,
      requests: 151,
      entriesPerRequest: 9.95,
      retries: 3,
      interrupted: false,
    });
  });

  it('leaves the seed out for a file or stdin', () => {
    // Act
    const { seed: _, ...fromFile } = run;
    // Assess
    expect(summarize(stats, { ...fromFile, source: 'stdin' })).not.toHaveProperty('seed');
  });
});

describe('formatSummary', () => {
  it('prints one line of JSON with --json', () => {
    // Prepare
    const summary = summarize(stats, run);
    // Act
    const text = formatSummary(summary, true);
    // Assess
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(summary);
  });

  it('prints sent, failed by reason and requests for people', () => {
    // Act
    const text = formatSummary(summarize(stats, { ...run, interrupted: true, invalidSent: 5 }), false);
    // Assess
    expect(text).toBe(
      [
        `interrupted: sent 1,500 message(s) to ${run.queueUrl} in 1.23 s (1,215 msgs/s)`,
        'failed 2: MessageTooLong ×2',
        'requests 151 (9.95 entries/request), retries 3',
        'invalid on purpose (for the DLQ path): 5',
        '',
      ].join('\n'),
    );
  });
});
