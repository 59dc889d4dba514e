import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudWatchClient, GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adviseCommand } from '../../../../../shared/cli/advise/command.ts';
import { queueWindow } from '../../../../../shared/cli/advise/flags.ts';
import type { AdviseDeps } from '../../../../../shared/cli/advise/live.ts';
import { queueRate, readQueueFigures } from '../../../../../shared/cli/advise/queue-figures.ts';
import { tableItemRecord } from '../../../../../shared/cli/advise/table-scan.ts';
import { LiveFiguresUnavailableError } from '../../../../../shared/cli/errors.ts';
import { runCli } from '../../../../../shared/cli/pipeline.ts';
import { memoryIo } from '../../../../support/fakes/memory-io.ts';

// The queue's figures come from stubbed CloudWatch and SQS clients (the local emulators have no
// CloudWatch); the table scan is tested on DynamoDB Local (test/integration/cli/advise-live.test.ts).

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest';
const NOW = new Date('2026-12-04T12:00:30Z');
const MINUTE = 60_000;

/** A CloudWatch stub answering GetMetricData from `pages` in turn, recording each request. */
function cloudWatchStub(pages: { Timestamps?: Date[]; Values?: number[]; NextToken?: string }[]) {
  const requests: GetMetricDataCommandInput[] = [];
  let next = 0;
  const client = {
    send: async (command: { input: GetMetricDataCommandInput }) => {
      requests.push(command.input);
      const { NextToken, ...result } = pages[next++]!;
      return { MetricDataResults: [{ Id: 'sent', ...result }], ...(NextToken ? { NextToken } : {}) };
    },
    destroy: () => {},
  };
  return { client: client as unknown as CloudWatchClient, requests };
}

const sqsStub = {
  send: async () => ({
    Attributes: {
      ApproximateNumberOfMessages: '120',
      ApproximateNumberOfMessagesNotVisible: '30',
      ApproximateNumberOfMessagesDelayed: '0',
    },
  }),
  destroy: () => {},
} as unknown as SQSClient;

/** One hour of minutes: 600 messages in each, 2,400 in the 31st (the peak). */
function hourOfMinutes() {
  const end = Date.parse('2026-12-04T12:00:00Z');
  const Timestamps = Array.from({ length: 60 }, (_, i) => new Date(end - (60 - i) * MINUTE));
  const Values = Timestamps.map((_, i) => (i === 30 ? 2400 : 600));
  return { Timestamps, Values };
}

describe('readQueueFigures', () => {
  it('sums NumberOfMessagesSent per minute over the window: mean, peak minute, burstiness, backlog', async () => {
    // Prepare: the hour in two pages.
    const { Timestamps, Values } = hourOfMinutes();
    const cw = cloudWatchStub([
      { Timestamps: Timestamps.slice(0, 40), Values: Values.slice(0, 40), NextToken: 'more' },
      { Timestamps: Timestamps.slice(40), Values: Values.slice(40) },
    ]);
    // Act
    const figures = await readQueueFigures({
      cloudWatch: cw.client,
      sqs: sqsStub,
      queueUrl: QUEUE_URL,
      windowMs: 60 * MINUTE,
      now: NOW,
    });
    // Assess: 59 × 600 + 2,400 = 37,800 messages in 3,600 s = 10.5/s; the peak minute 40/s.
    expect(figures).toMatchObject({
      queueName: 'ingest',
      from: '2026-12-04T11:00:00.000Z',
      to: '2026-12-04T12:00:00.000Z',
      windowSeconds: 3600,
      datapoints: 60,
      messagesSent: 37_800,
      meanPerSec: 10.5,
      peakMinute: { at: '2026-12-04T11:30:00.000Z', messages: 2400 },
      peakPerSec: 40,
      burstiness: 3.81,
      backlog: { visible: 120, inFlight: 30, delayed: 0 },
    });
    expect(cw.requests).toHaveLength(2);
    expect(cw.requests[1]!.NextToken).toBe('more');
    expect(cw.requests[0]!.MetricDataQueries).toEqual([
      expect.objectContaining({
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SQS',
            MetricName: 'NumberOfMessagesSent',
            Dimensions: [{ Name: 'QueueName', Value: 'ingest' }],
          },
          Period: 60,
          Stat: 'Sum',
        },
      }),
    ]);
    expect(queueRate(figures, false)).toEqual({
      source: 'queue ingest (CloudWatch, per minute)',
      meanPerSec: 10.5,
      burstiness: 3.81,
    });
  });

  it('refuses a window without datapoints (exit 2, pass --rate) unless --rate was given', async () => {
    // Act
    const figures = await readQueueFigures({
      cloudWatch: cloudWatchStub([{}]).client,
      sqs: sqsStub,
      queueUrl: QUEUE_URL,
      windowMs: 5 * MINUTE,
      now: NOW,
    });
    // Assess
    expect(figures).toMatchObject({ datapoints: 0, messagesSent: 0, meanPerSec: null, burstiness: null });
    const error = (() => {
      try {
        queueRate(figures, false);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(LiveFiguresUnavailableError);
    expect(error).toMatchObject({ code: 'LIVE_FIGURES_UNAVAILABLE', exitCode: 2 });
    expect((error as Error).message).toMatch(
      /^queue ingest: CloudWatch has no NumberOfMessagesSent datapoints from .* pass --rate <messages\/s>/,
    );
    expect(queueRate(figures, true)).toBeUndefined();
  });

  it('refuses minutes that count no message sent as it refuses no datapoints', async () => {
    const figures = await readQueueFigures({
      cloudWatch: cloudWatchStub([{ Timestamps: [new Date(NOW.getTime() - MINUTE)], Values: [0] }]).client,
      sqs: sqsStub,
      queueUrl: QUEUE_URL,
      windowMs: 5 * MINUTE,
      now: NOW,
    });
    expect(() => queueRate(figures, false)).toThrow(/CloudWatch counts no messages sent/);
  });

  it('fails with exit 1 and says what to do when CloudWatch refuses', async () => {
    const failing = {
      send: async () => {
        throw Object.assign(new Error('User is not authorized to perform cloudwatch:GetMetricData'), {
          name: 'AccessDenied',
        });
      },
    } as unknown as CloudWatchClient;
    const attempt = readQueueFigures({
      cloudWatch: failing,
      sqs: sqsStub,
      queueUrl: QUEUE_URL,
      windowMs: 5 * MINUTE,
      now: NOW,
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'LIVE_FIGURES_UNAVAILABLE',
      exitCode: 1,
      message: expect.stringMatching(/AccessDenied: .*--from-queue needs CloudWatch.*pass --rate/),
    });
  });
});

describe('tableItemRecord', () => {
  const keys = { partitionKey: 'pk', sortKey: 'sk' };

  it('makes an item a put, its version attribute the message version, its TTL dropped', () => {
    const record = tableItemRecord({ pk: 'a', sk: '1', n: 2, _version: 7, _expiresAt: 9 }, 3, 'items', keys);
    const message = { op: 'put', item: { pk: 'a', sk: '1', n: 2 }, version: 7 };
    expect(record).toEqual({ line: 3, kind: 'write', message, bodyBytes: JSON.stringify(message).length });
  });

  it('makes a tombstone a versioned delete of its key, in the logical table it is analysed as', () => {
    const record = tableItemRecord(
      { pk: 'a', sk: '1', _version: 8, _deleted: true, _expiresAt: 1_900_000_000 },
      1,
      'orders',
      keys,
    );
    expect(record).toMatchObject({
      kind: 'write',
      message: { op: 'delete', table: 'orders', key: { pk: 'a', sk: '1' }, version: 8 },
    });
  });
});

describe('tableItemRecord on a sharded route', () => {
  it("gives a shard's item back its logical partition key, and leaves other keys with a # alone", () => {
    const route = {
      partitionKey: 'pk',
      sortKey: 'sk',
      shards: { hot: { count: 4, by: 'sortKeyHash' as const } },
    };
    const shard = tableItemRecord({ pk: 'hot#3', sk: 's1' }, 1, 'items', route);
    const beyond = tableItemRecord({ pk: 'hot#9', sk: 's1' }, 2, 'items', route);
    const other = tableItemRecord({ pk: 'cold#1', sk: 's1' }, 3, 'items', route);
    expect(shard).toMatchObject({ message: { op: 'put', item: { pk: 'hot', sk: 's1' } } });
    expect(beyond).toMatchObject({ message: { item: { pk: 'hot#9' } } });
    expect(other).toMatchObject({ message: { item: { pk: 'cold#1' } } });
  });
});

describe('pipeline advise --from-queue (stubbed CloudWatch)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pipeline-advise-live-'));
    await writeFile(
      join(dir, 'timed.jsonl'),
      [0, 100, 200]
        .map((at, i) =>
          JSON.stringify({ sentAt: at, message: { op: 'put', item: { pk: `k${i}`, sk: '1' } } }),
        )
        .join('\n'),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function adviseWith(args: string[], deps: AdviseDeps) {
    const io = memoryIo({ cwd: dir });
    await adviseCommand(io, deps).exitOverride().parseAsync(args, { from: 'user' });
    return JSON.parse(io.out());
  }

  it("gives a sample's analysis the queue's rate and burstiness, and reports the queue", async () => {
    const deps = { cloudWatch: cloudWatchStub([hourOfMinutes()]).client, sqs: sqsStub, clock: () => NOW };
    const advice = await adviseWith(['timed.jsonl', '--from-queue', QUEUE_URL, '--json'], deps);
    expect(advice).toMatchObject({
      rate: 10.5,
      rateSource: 'external',
      burstiness: 3.81,
      observed: null,
      live: { queue: { queueName: 'ingest', messagesSent: 37_800, backlog: { visible: 120 } } },
      duplicates: { measurable: true },
    });
    expect(advice.notes.join('\n')).toMatch(/the sample's own timestamps ignored/);
    expect(advice.notes.join('\n')).toMatch(/bursts within a minute are not seen/);
  });

  it('with --rate and a queue without datapoints, goes on at a steady rate and says so', async () => {
    const deps = { cloudWatch: cloudWatchStub([{}]).client, sqs: sqsStub, clock: () => NOW };
    const advice = await adviseWith(
      ['timed.jsonl', '--from-queue', QUEUE_URL, '--rate', '50', '--json'],
      deps,
    );
    expect(advice).toMatchObject({ rate: 50, rateSource: 'flag', live: { queue: { datapoints: 0 } } });
    expect(advice.notes.join('\n')).toMatch(/no messages sent in the window .*burstiness unknown/);
  });
});

describe('pipeline advise live flags: bad combinations (exit 2, nothing asked of AWS)', () => {
  it.each([
    [
      ['x.jsonl', '--from-table', 'items-table'],
      /give either a JSONL sample \(x\.jsonl\) or --from-table items-table, not both/,
    ],
    [
      ['--count', '5', '--from-table', 'items-table'],
      /give either --count .* or --from-table items-table, not both/,
    ],
    [
      ['--from-table', 'items-table', '--keys', '5', '--rate', '1'],
      /--keys apply to synthetic workloads \(--count\) only, not to --from-table/,
    ],
    [
      ['--from-table', 'items-table'],
      /--from-table items-table needs --rate <messages\/s> or --from-queue <url>/,
    ],
    [[], /nothing to analyse: .*or --from-table <table>/],
    [['x.jsonl', '--sample', '5'], /--sample applies to --from-table only/],
    [['x.jsonl', '--logical', 'orders'], /--logical applies to --from-table only/],
    [['x.jsonl', '--window', '2h'], /--window applies to --from-queue only/],
    [
      ['--from-table', 'items-table', '--rate', '1', '--sample', '0'],
      /--sample <n>' argument '0' is invalid\. expected an integer in 1\.\.1000000/,
    ],
    [['x.jsonl', '--from-queue', 'queue'], /argument 'queue' is invalid\. expected a queue URL/],
    [['x.jsonl', '--from-queue', QUEUE_URL, '--window', '4m'], /expected a duration from 5m to 14d/],
    [['--from-table', 'x', '--rate', '1'], /expected a DynamoDB table name/],
  ])('%j', async (args, message) => {
    const io = memoryIo({ cwd: tmpdir() });
    const code = await runCli(['advise', ...args], io);
    expect(code).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.out()).toBe('');
  });

  it.each([
    ['5m', 5 * MINUTE],
    ['300s', 5 * MINUTE],
    ['6h', 360 * MINUTE],
    ['14d', 14 * 1440 * MINUTE],
  ])('--window %s is %d ms', (text, ms) => {
    expect(queueWindow(text)).toBe(ms);
  });

  it.each(['15d', '299s', '1w', '1.5h', ''])('--window %j is refused', (text) => {
    expect(() => queueWindow(text)).toThrow(/expected a duration from 5m to 14d/);
  });
});
