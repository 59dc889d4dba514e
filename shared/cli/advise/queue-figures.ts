/**
 * `pipeline advise --from-queue`: a live queue's rate and burstiness, from CloudWatch's
 * `AWS/SQS NumberOfMessagesSent` summed per minute over `--window`, and its backlog from
 * `GetQueueAttributes`.
 */

import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ExternalRate } from '../../pipeline/capacity/analyze.ts';
import { round } from '../../pipeline/capacity/stats.ts';
import { LiveFiguresUnavailableError } from '../errors.ts';
import { queueNameOf } from './flags.ts';

/** CloudWatch's period for the sums: SQS publishes its metrics once a minute. */
export const METRIC_PERIOD_SECONDS = 60;

export interface QueueFiguresOptions {
  readonly cloudWatch: CloudWatchClient;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** How far back the figures go. */
  readonly windowMs: number;
  /** The end of the window. */
  readonly now: Date;
}

/** What the queue's metrics say, for the advice's `live.queue`. */
export interface QueueFigures {
  readonly queueUrl: string;
  readonly queueName: string;
  readonly from: string;
  readonly to: string;
  readonly windowSeconds: number;
  readonly periodSeconds: number;
  /** Minutes CloudWatch has a datapoint for. */
  readonly datapoints: number;
  /** NumberOfMessagesSent over the window. */
  readonly messagesSent: number;
  /** messagesSent over the window's seconds; null without datapoints. */
  readonly meanPerSec: number | null;
  /** The busiest minute, null without datapoints. */
  readonly peakMinute: { readonly at: string; readonly messages: number } | null;
  /** The busiest minute's messages per second. */
  readonly peakPerSec: number | null;
  /** Peak minute over the mean: per-second bursts inside a minute are not seen. */
  readonly burstiness: number | null;
  /** ApproximateNumberOfMessages* now (local-aws-sqs counts in-flight messages as visible too). */
  readonly backlog: { readonly visible: number; readonly inFlight: number; readonly delayed: number };
}

/**
 * Reads the queue's figures. A window without datapoints is no error here (see `queueRate`).
 *
 * @throws LiveFiguresUnavailableError (exit 1) when CloudWatch or SQS cannot be asked.
 */
export async function readQueueFigures(options: QueueFiguresOptions): Promise<QueueFigures> {
  const { queueUrl, windowMs, now } = options;
  const queueName = queueNameOf(queueUrl);
  const periodMs = METRIC_PERIOD_SECONDS * 1000;
  // Whole minutes, so each period CloudWatch returns is a full one.
  const end = new Date(Math.floor(now.getTime() / periodMs) * periodMs);
  const start = new Date(end.getTime() - windowMs);
  const points = await sentPerMinute(options.cloudWatch, queueUrl, queueName, start, end);
  const backlog = await queueBacklog(options.sqs, queueUrl);
  const windowSeconds = windowMs / 1000;
  const messagesSent = points.reduce((sum, p) => sum + p.value, 0);
  const peak = points.reduce<{ at: Date; value: number } | undefined>(
    (best, p) => (best === undefined || p.value > best.value ? p : best),
    undefined,
  );
  const meanPerSec = points.length === 0 ? null : messagesSent / windowSeconds;
  const peakPerSec = peak === undefined ? null : peak.value / METRIC_PERIOD_SECONDS;
  return {
    queueUrl,
    queueName,
    from: start.toISOString(),
    to: end.toISOString(),
    windowSeconds,
    periodSeconds: METRIC_PERIOD_SECONDS,
    datapoints: points.length,
    messagesSent,
    meanPerSec: meanPerSec === null ? null : round(meanPerSec, 3),
    peakMinute: peak === undefined ? null : { at: peak.at.toISOString(), messages: peak.value },
    peakPerSec: peakPerSec === null ? null : round(peakPerSec, 3),
    burstiness:
      meanPerSec === null || peakPerSec === null || meanPerSec === 0
        ? null
        : round(peakPerSec / meanPerSec, 3),
    backlog,
  };
}

/**
 * The queue's figures as the analysis' external rate. Without datapoints (or with none sent) there
 * is no rate to give: with `--rate` the analysis goes on at a steady rate; without, it cannot.
 *
 * @throws LiveFiguresUnavailableError (exit 2) when the window has no messages and `rateGiven` is false.
 */
export function queueRate(figures: QueueFigures, rateGiven: boolean): ExternalRate | undefined {
  if (figures.meanPerSec !== null && figures.meanPerSec > 0 && figures.burstiness !== null) {
    return {
      source: `queue ${figures.queueName} (CloudWatch, per minute)`,
      meanPerSec: figures.meanPerSec,
      burstiness: figures.burstiness,
    };
  }
  if (rateGiven) return undefined;
  const what =
    figures.datapoints === 0
      ? 'CloudWatch has no NumberOfMessagesSent datapoints'
      : 'CloudWatch counts no messages sent';
  throw new LiveFiguresUnavailableError(
    `queue ${figures.queueName}`,
    'no-data',
    `${what} from ${figures.from} to ${figures.to}: pass --rate <messages/s>, or a longer --window`,
  );
}

async function sentPerMinute(
  cloudWatch: CloudWatchClient,
  queueUrl: string,
  queueName: string,
  start: Date,
  end: Date,
): Promise<{ at: Date; value: number }[]> {
  const points: { at: Date; value: number }[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await cloudWatch.send(
        new GetMetricDataCommand({
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampAscending',
          MetricDataQueries: [
            {
              Id: 'sent',
              ReturnData: true,
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/SQS',
                  MetricName: 'NumberOfMessagesSent',
                  Dimensions: [{ Name: 'QueueName', Value: queueName }],
                },
                Period: METRIC_PERIOD_SECONDS,
                Stat: 'Sum',
              },
            },
          ],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const times = result.Timestamps ?? [];
        const values = result.Values ?? [];
        times.forEach((at, i) => {
          points.push({ at: new Date(at), value: values[i] ?? 0 });
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (cause) {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    throw new LiveFiguresUnavailableError(
      `queue ${queueName}`,
      'request-failed',
      `CloudWatch GetMetricData (AWS/SQS NumberOfMessagesSent) failed: ${error.name}: ${error.message}. ` +
        '--from-queue needs CloudWatch (the local emulators have none): check credentials, region and ' +
        `cloudwatch:GetMetricData, or drop --from-queue and pass --rate <messages/s> (queue ${queueUrl})`,
      { cause },
    );
  }
  return points.sort((a, b) => a.at.getTime() - b.at.getTime());
}

async function queueBacklog(sqs: SQSClient, queueUrl: string): Promise<QueueFigures['backlog']> {
  try {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const count = (name: keyof typeof Attributes) => Number(Attributes[name] ?? 0);
    return {
      visible: count('ApproximateNumberOfMessages'),
      inFlight: count('ApproximateNumberOfMessagesNotVisible'),
      delayed: count('ApproximateNumberOfMessagesDelayed'),
    };
  } catch (cause) {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    throw new LiveFiguresUnavailableError(
      `queue ${queueUrl}`,
      'request-failed',
      `SQS GetQueueAttributes failed: ${error.name}: ${error.message}`,
      { cause },
    );
  }
}
