/**
 * `pipeline send`: the commander definition of its arguments and flags, and the action that runs it
 * and turns the outcome into an exit status.
 */

import { Command, Option } from 'commander';
import { DEFAULT_STACK_FILE } from '../../local/resources/stack-file.ts';
import type { CliIo } from '../io.ts';
import { DEFAULT_FIFO_GROUPS } from './fifo-group.ts';
import {
  attributeName,
  integer,
  keyDistribution,
  MAX_ITEM_BYTES,
  MAX_KEYS,
  rate,
  type SendFlags,
  tableName,
  tenantId,
} from './flags.ts';
import { runSend } from './run.ts';
import { traceparentFlag } from './trace.ts';

/** `pipeline send`: reports its exit status through `setExitCode` (0 all sent, 1 some failed, 130 interrupted). */
export function sendCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  return new Command('send')
    .summary('send contract-v1 messages from a JSONL file, stdin or a synthetic workload')
    .description(
      'Send contract-v1 messages to a queue: a JSONL file, stdin (-), or a synthetic workload (--count).\n' +
        'A file is validated whole before anything is sent; stdin stops at the first bad line, having sent ' +
        'only the lines before it.',
    )
    .argument('[file]', 'JSONL file of contract-v1 messages, or - for stdin')
    .addOption(new Option('--queue-url <url>', 'target queue URL').conflicts('queue'))
    .option('--queue <name>', 'queue name resolved from the stack file', 'ingest')
    .option('--stack-file <path>', 'local stack file written by `npm run local`', DEFAULT_STACK_FILE)
    .option('--count <n>', 'synthetic: number of messages', integer(1))
    .addOption(
      new Option('--key-dist <dist>', 'synthetic: uniform or zipf:<s>')
        .argParser(keyDistribution)
        .default({ kind: 'uniform' }, 'uniform'),
    )
    .option('--keys <n>', 'synthetic: distinct keys', integer(1, MAX_KEYS), 1000)
    .option('--item-bytes <n>', "synthetic: bytes of each item's JSON", integer(1, MAX_ITEM_BYTES), 200)
    .option('--versions', 'synthetic: version every message, 1, 2, 3… per key')
    .option('--shuffle-versions', 'synthetic: send versions out of order (needs --versions)')
    .option('--invalid-rate <r>', 'synthetic: fraction (0..1) the batch writer must reject', rate, 0)
    .option('--table <logical>', 'synthetic: logical table (default: the default table)', tableName)
    .option('--seed <n>', 'synthetic: PRNG seed', integer(0, 2 ** 32 - 1), 1)
    .option('--concurrency <n>', 'SendMessageBatch requests in flight', integer(1, 256), 8)
    .option('--max-delay-ms <ms>', 'longest wait for a batch to fill', integer(0, 60_000), 10)
    .option(
      '--fifo-groups <n>',
      `FIFO: message groups, by a hash of the key (default ${DEFAULT_FIFO_GROUPS})`,
      integer(1),
    )
    .addOption(
      new Option('--tenant-key <attribute>', 'standard queues: tenant (fair queues) = this item attribute')
        .argParser(attributeName)
        .conflicts('tenant'),
    )
    .option('--tenant <id>', 'standard queues: one tenant (fair queues) for every message', tenantId)
    .option(
      '--traceparent <value>',
      "continue the caller's trace: every message carries this W3C traceparent (under a `pipeline send` span when OTEL_EXPORTER_OTLP_ENDPOINT is set)",
      traceparentFlag,
    )
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress output')
    .action(async (file: string | undefined, flags: SendFlags, command: Command) => {
      const userSet = (name: string) => command.getOptionValueSource(name) === 'cli';
      const summary = await runSend(file, flags, userSet, io);
      setExitCode(summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0);
    });
}
