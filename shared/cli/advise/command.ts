/** `pipeline advise`: the commander definition of its arguments and flags. */

import { Command, Option } from 'commander';
import type { CliIo } from '../io.ts';
import { integer, tableName, withSyntheticWorkloadOptions } from '../send/flags.ts';
import {
  type AdviseFlags,
  physicalTableName,
  positiveNumber,
  QUEUE_WINDOW_MS,
  queueUrl,
  queueWindow,
  SCAN_SAMPLE,
  withSampleAnalysisOptions,
} from './flags.ts';
import type { AdviseDeps } from './live.ts';
import { runAdvise } from './run.ts';

export function adviseCommand(io: CliIo, deps: AdviseDeps = {}): Command {
  const command = new Command('advise')
    .summary('measure a workload and recommend batch, concurrency, memory, sharding and warm throughput')
    .description(
      'Measure a workload — a JSONL sample (contract-v1 messages, optionally wrapped as {"sentAt", "message"}, ' +
        'and {"read": …} lines), stdin (-), the synthetic workload of `pipeline send` (--count), or a live ' +
        "table's items (--from-table) — and print recommendations, each with the figure that drove it. --rate " +
        "scales the sample to a target rate; --from-queue takes the rate and burstiness from a queue's CloudWatch metrics.",
    )
    .argument('[file]', 'JSONL sample, or - for stdin')
    .option(
      '--rate <messages/s>',
      'target ingest rate (default: the sample’s own, from sentAt)',
      positiveNumber,
    )
    .option('--top <n>', 'hottest keys and partitions listed', integer(1, 1000), 10)
    .option('--json', 'print the advice as one JSON object')
    .option(
      '--context-file <path>',
      'also write the advice as a CDK context file (cdk synth -c contextFile=<path>)',
    )
    .option('--report <path>', 'also write charts: a .svg image or an .html page')
    .option('--gpu-jobs-per-sec <n>', 'GPU: inference jobs/s at the target', positiveNumber)
    .option(
      '--gpu-task-jobs-per-sec <n>',
      'GPU: jobs/s one GPU task sustains (npm run bench -- gpu-worker)',
      positiveNumber,
    )
    .option(
      '--from-table <table>',
      'live: scan this DynamoDB table (physical name) as the sample',
      physicalTableName,
    )
    .option(
      '--from-queue <url>',
      'live: rate and burstiness from this queue’s CloudWatch NumberOfMessagesSent (--rate still sets the target)',
      queueUrl,
    )
    .option(
      '--sample <n>',
      `live: most items --from-table scans (${SCAN_SAMPLE.min}..${SCAN_SAMPLE.max.toLocaleString('en-US')})`,
      integer(SCAN_SAMPLE.min, SCAN_SAMPLE.max),
      SCAN_SAMPLE.default,
    )
    .addOption(
      new Option('--window <duration>', 'live: how far back --from-queue’s figures go (5m..14d)')
        .argParser(queueWindow)
        .default(QUEUE_WINDOW_MS.default, '1h'),
    )
    .option(
      '--logical <name>',
      'live: logical table the scanned items are analysed as (default: the --routes route naming the table, else items)',
      tableName,
    );
  return withSyntheticWorkloadOptions(withSampleAnalysisOptions(command)).action(
    async (file: string | undefined, flags: AdviseFlags, command: Command) => {
      const userSet = (name: string) => command.getOptionValueSource(name) === 'cli';
      await runAdvise(file, flags, userSet, io, deps);
    },
  );
}
