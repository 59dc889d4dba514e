import { describe, expect, it } from 'vitest';
import { EmfTotals, emfMetrics } from '../../../../../shared/local/dev/lib/emf.ts';

/** An EMF document as Powertools Metrics writes it. */
function emfLine(values: Record<string, number | number[]>): string {
  return JSON.stringify({
    _aws: {
      Timestamp: 1,
      CloudWatchMetrics: [
        {
          Namespace: 'BatchWritePipeline',
          Dimensions: [['service']],
          Metrics: Object.keys(values).map((Name) => ({ Name, Unit: 'Count' })),
        },
      ],
    },
    service: 'batch-writer',
    ...values,
  });
}

describe('EmfTotals', () => {
  it('sums each metric over the EMF documents among the log lines, arrays of values included', () => {
    // Prepare
    const totals = new EmfTotals();
    const lines = [
      emfLine({ ItemsWritten: 3, MessagesDeadLettered: 1 }),
      '{"level":"INFO","message":"batch processed","ItemsWritten":100}',
      'START RequestId: 1',
      emfLine({ ItemsWritten: [2, 5] }),
    ];
    // Act
    const consumed = lines.map((line) => totals.add(line));
    // Assess
    expect(consumed).toEqual([true, false, false, true]);
    expect(totals.get('ItemsWritten')).toBe(10);
    expect(totals.get('MessagesDeadLettered')).toBe(1);
    expect(totals.get('WritesStale')).toBe(0);
  });

  it('leaves structured log lines, broken JSON and other text alone', () => {
    // Act / Assess
    expect(emfMetrics('{"level":"WARN","message":"stale"}')).toBeUndefined();
    expect(emfMetrics('{"_aws":')).toBeUndefined();
    expect(emfMetrics('plain text')).toBeUndefined();
  });

  it('counts a metric the document names but does not carry as 0', () => {
    // Prepare
    const line = emfLine({ ItemsWritten: 4 }).replace('"ItemsWritten":4', '"Other":4');
    // Act / Assess
    expect(emfMetrics(line)).toEqual(new Map([['ItemsWritten', 0]]));
  });
});
