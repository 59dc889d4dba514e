/**
 * The live inputs of `pipeline advise`: a table's items as the sample (`--from-table`) and a
 * queue's CloudWatch figures as the rate and burstiness (`--from-queue`). Clients come from the
 * SDK's usual configuration (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, …) unless given.
 */

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ExternalRate } from '../../pipeline/capacity/analyze.ts';
import { fmt } from '../../pipeline/capacity/format.ts';
import type { RoutesConfig } from '../../pipeline/routing.ts';
import type { AdviseFlags } from './flags.ts';
import type { SampleInput } from './input.ts';
import { type QueueFigures, queueRate, readQueueFigures } from './queue-figures.ts';
import { scanTableSample, type TableScanFigures } from './table-scan.ts';

export interface AdviseDeps {
  /** For `--from-table`. @default a client from the SDK's configuration */
  readonly dynamodb?: DynamoDBClient;
  /** For `--from-queue`. @default a client from the SDK's configuration, 2 attempts */
  readonly cloudWatch?: CloudWatchClient;
  /** For `--from-queue`'s backlog. @default a client from the SDK's configuration */
  readonly sqs?: SQSClient;
  /** The end of the queue's window. @default () => new Date() */
  readonly clock?: () => Date;
}

/** What the advice reports under `live`. */
export interface LiveFigures {
  readonly table?: TableScanFigures;
  readonly queue?: QueueFigures;
}

export interface LiveInputs {
  /** The table's sample, with `--from-table`. */
  readonly sample?: { readonly input: SampleInput; readonly routes: RoutesConfig };
  /** The queue's rate, with `--from-queue` (absent when it had none and `--rate` was given). */
  readonly externalRate?: ExternalRate;
  readonly live?: LiveFigures;
  readonly notes: readonly string[];
}

/** Reads the queue's figures, then scans the table; only what the flags ask for. */
export async function readLiveInputs(
  flags: AdviseFlags,
  routes: RoutesConfig | undefined,
  deps: AdviseDeps,
): Promise<LiveInputs> {
  if (flags.fromQueue === undefined && flags.fromTable === undefined) return { notes: [] };
  const notes: string[] = [];
  let queue: QueueFigures | undefined;
  let externalRate: ExternalRate | undefined;
  if (flags.fromQueue !== undefined) {
    queue = await withClient(
      deps.cloudWatch,
      () => new CloudWatchClient({ maxAttempts: 2 }),
      (cloudWatch) =>
        withClient(
          deps.sqs,
          () => new SQSClient({}),
          (sqs) =>
            readQueueFigures({
              cloudWatch,
              sqs,
              queueUrl: flags.fromQueue!,
              windowMs: flags.window,
              now: (deps.clock ?? (() => new Date()))(),
            }),
        ),
    );
    externalRate = queueRate(queue, flags.rate !== undefined);
    notes.push(...queueNotes(queue, externalRate, flags.rate));
  }
  let table: Awaited<ReturnType<typeof scanTableSample>> | undefined;
  if (flags.fromTable !== undefined) {
    const tableName = flags.fromTable;
    table = await withClient(
      deps.dynamodb,
      () => new DynamoDBClient({}),
      (client) =>
        scanTableSample({
          client,
          tableName,
          sample: flags.sample,
          ...(flags.logical === undefined ? {} : { logical: flags.logical }),
          ...(routes === undefined ? {} : { routes }),
          strict: flags.strict === true,
        }),
    );
    notes.push(...tableNotes(table.figures, flags.sample));
  }
  return {
    ...(table ? { sample: { input: table.input, routes: table.routes } } : {}),
    ...(externalRate ? { externalRate } : {}),
    live: { ...(table ? { table: table.figures } : {}), ...(queue ? { queue } : {}) },
    notes,
  };
}

function queueNotes(
  queue: QueueFigures,
  rate: ExternalRate | undefined,
  target: number | undefined,
): string[] {
  const notes: string[] = [];
  if (rate === undefined) {
    notes.push(
      `queue ${queue.queueName}: no messages sent in the window (CloudWatch): burstiness unknown, figures assume a steady rate`,
    );
    return notes;
  }
  notes.push(
    `burstiness from CloudWatch's per-minute sums over ${fmt(queue.windowSeconds / 60)} min: bursts within a minute are not seen, a per-second peak can be higher`,
  );
  if (target !== undefined)
    notes.push(`--rate ${fmt(target)} is the target; the queue's own mean was ${fmt(rate.meanPerSec)}/s`);
  return notes;
}

function tableNotes(table: TableScanFigures, sample: number): string[] {
  const notes = [
    `a table scan sees each item once, in its latest state: duplicates within a batch and version disorder are not measurable from it (the coalescing advice assumes no duplicates; export a JSONL sample of the messages to measure them)`,
  ];
  if (table.capped) {
    const of = table.approximateItemCount === undefined ? '' : ` of ~${fmt(table.approximateItemCount)}`;
    notes.push(
      `the scan stopped at --sample ${fmt(sample)} items${of}: a capped scan reads whole partitions in key-hash order, so key and partition shares are of the partitions it read`,
    );
  }
  return notes;
}

/** Runs `use` with the given client, or with one made for it and destroyed after. */
async function withClient<C extends { destroy(): void }, T>(
  given: C | undefined,
  make: () => C,
  use: (client: C) => Promise<T>,
): Promise<T> {
  if (given) return use(given);
  const client = make();
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}
