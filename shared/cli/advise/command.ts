/** `pipeline advise`: the commander definition of its arguments and flags. */

import { Command, Option } from 'commander';
import type { CliIo } from '../io.ts';
import { integer, keyDistribution, MAX_ITEM_BYTES, MAX_KEYS, rate, tableName } from '../send/flags.ts';
import { type AdviseFlags, positiveNumber, versionedWrites } from './flags.ts';
import { runAdvise } from './run.ts';

export function adviseCommand(io: CliIo): Command {
  return new Command('advise')
    .summary('measure a workload and recommend batch, concurrency, memory, sharding and warm throughput')
    .description(
      'Measure a workload — a JSONL sample (contract-v1 messages, optionally wrapped as {"sentAt", "message"}, ' +
        'and {"read": …} lines), stdin (-), or the synthetic workload of `pipeline send` (--count) — and print ' +
        'recommendations, each with the figure that drove it. --rate scales the sample to a target rate.',
    )
    .argument('[file]', 'JSONL sample, or - for stdin')
    .option(
      '--rate <messages/s>',
      'target ingest rate (default: the sample’s own, from sentAt)',
      positiveNumber,
    )
    .option(
      '--routes <file>',
      'routing map (TABLE_ROUTES) or pipeline config document: key names, ops, shards',
    )
    .addOption(
      new Option('--versioned-writes <mode>', 'how the WriteBatcher sends versioned writes')
        .argParser(versionedWrites)
        .default('transaction'),
    )
    .option('--top <n>', 'hottest keys and partitions listed', integer(1, 1000), 10)
    .option('--strict', 'fail on the first bad line instead of counting it')
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
    .option('--count <n>', 'synthetic: number of messages', integer(1))
    .addOption(
      new Option('--key-dist <dist>', 'synthetic: uniform or zipf:<s>')
        .argParser(keyDistribution)
        .default({ kind: 'uniform' }, 'uniform'),
    )
    .option('--keys <n>', 'synthetic: distinct keys', integer(1, MAX_KEYS), 1000)
    .option('--item-bytes <n>', "synthetic: bytes of each item's JSON", integer(1, MAX_ITEM_BYTES), 200)
    .option('--versions', 'synthetic: version every message, 1, 2, 3… per key')
    .option('--shuffle-versions', 'synthetic: versions out of order (needs --versions)')
    .option('--invalid-rate <r>', 'synthetic: fraction (0..1) the batch writer must reject', rate, 0)
    .option('--table <logical>', 'synthetic: logical table', tableName)
    .option('--seed <n>', 'synthetic: PRNG seed', integer(0, 2 ** 32 - 1), 1)
    .action(async (file: string | undefined, flags: AdviseFlags, command: Command) => {
      const userSet = (name: string) => command.getOptionValueSource(name) === 'cli';
      await runAdvise(file, flags, userSet, io);
    });
}
