/**
 * `pipeline send`: the commander definition of its arguments and flags, and the action that runs it
 * and turns the outcome into an exit status.
 */

import { Command, Option } from 'commander';
import { DEFAULT_STACK_FILE } from '../../local/resources/stack-file.ts';
import type { CliIo } from '../io.ts';
import { DEFAULT_FIFO_GROUPS } from './fifo-group.ts';
import { attributeName, integer, type SendFlags, tenantId, withSyntheticWorkloadOptions } from './flags.ts';
import { runSend } from './run.ts';
import { traceparentFlag } from './trace.ts';

/** `pipeline send`: reports its exit status through `setExitCode` (0 all sent, 1 some failed, 130 interrupted). */
export function sendCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  const command = new Command('send')
    .summary('send contract-v1 messages from a JSONL file, stdin or a synthetic workload')
    .description(
      'Send contract-v1 messages to a queue: a JSONL file, stdin (-), or a synthetic workload (--count).\n' +
        'A file is validated whole before anything is sent; stdin stops at the first bad line, having sent ' +
        'only the lines before it.',
    )
    .argument('[file]', 'JSONL file of contract-v1 messages, or - for stdin')
    .addOption(new Option('--queue-url <url>', 'target queue URL').conflicts('queue'))
    .option('--queue <name>', 'queue name resolved from the stack file', 'ingest')
    .option('--stack-file <path>', 'local stack file written by `npm run local`', DEFAULT_STACK_FILE);
  return withSyntheticWorkloadOptions(command)
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
