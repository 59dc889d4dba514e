/**
 * `pipeline dlq`: `inspect` (counts by ErrorCode and samples, without deleting) and `redrive`
 * (back to the source queue, whole or filtered, throttled, resumable after a crash).
 */

import { Command, Option } from 'commander';
import { DEFAULT_STACK_FILE } from '../../local/resources/stack-file.ts';
import type { CliIo } from '../io.ts';
import { codeFilter, type InspectFlags, integerIn, type RedriveFlags, ratePerSecond } from './flags.ts';
import { runInspect } from './inspect.ts';
import { NO_ERROR_CODE, NO_ERROR_CODE_LABEL } from './letters.ts';
import { runRedrive } from './redrive.ts';

/** `pipeline dlq`: reports a redrive's exit status through `setExitCode` (0 done, 1 left or failed, 130 interrupted). */
export function dlqCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  // Set before the subcommands copy them: a bad flag is then a CommanderError (exit status 2 in
  // runCli) printed to io.stderr, not commander's own process.exit(1).
  const dlq = new Command('dlq')
    .summary('inspect and redrive dead-letter queues')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  dlq.addCommand(
    withQueueFlags(new Command('inspect'))
      .summary('count the messages of a DLQ by ErrorCode, with samples; deletes nothing')
      .description(
        'Peek at every message of a dead-letter queue (received with a short visibility timeout and handed back, ' +
          `never deleted), count them by ErrorCode (${NO_ERROR_CODE_LABEL} for those SQS moved itself) and show ` +
          'samples with their error message. Bodies are shown only with --show-body, truncated.',
      )
      .option('--samples <n>', 'samples per ErrorCode', integerIn(0, 100), 3)
      .option('--show-body', 'show the start of each sample body')
      .option('--body-chars <n>', 'characters of body shown with --show-body', integerIn(1, 1_048_576), 200)
      .option('--limit <n>', 'most messages to peek at', integerIn(1, 10_000_000), 100_000)
      .option(
        '--visibility-timeout <s>',
        'seconds each message stays hidden during the peek (all are handed back at the end)',
        integerIn(1, 43_200),
        30,
      )
      .option('--json', 'print the report as JSON on stdout')
      .action(async (flags: InspectFlags) => {
        await runInspect(flags, io);
      })
      .copyInheritedSettings(dlq),
  );
  dlq.addCommand(
    withQueueFlags(new Command('redrive'))
      .summary("move a DLQ's messages back to their source queue (or --to)")
      .description(
        'Move the messages of a dead-letter queue to its source queue (or --to). A whole-queue redrive uses ' +
          'SQS StartMessageMoveTask where the endpoint has it; a --filter, --dry-run, --mover, or an endpoint ' +
          'without move tasks uses a receive → send → delete mover that journals every step, so a rerun after ' +
          'a crash neither loses nor re-sends a message.',
      )
      .option('--to <url>', 'destination queue (default: the source queue of the DLQ)')
      .option(
        '--filter <code=X,Y>',
        `move only these ErrorCodes (${NO_ERROR_CODE} = messages without one); the rest stay`,
        codeFilter,
      )
      .option('--rate <n/s>', 'most messages moved per second', ratePerSecond)
      .option('--dry-run', 'report what would move; move nothing')
      .option('--mover', 'always use receive → send → delete, never StartMessageMoveTask')
      .option('--journal <file>', 'mover journal (default .local/dlq-redrive/<dlq>-<hash>.jsonl)')
      .option(
        '--visibility-timeout <s>',
        'mover: seconds a received message stays hidden while the run goes on',
        integerIn(1, 43_200),
        60,
      )
      .option('--json', 'print the summary as JSON on stdout')
      .option('--quiet', 'no progress bar')
      .action(async (flags: RedriveFlags) => {
        setExitCode(await runRedrive(flags, io));
      })
      .copyInheritedSettings(dlq),
  );
  return dlq;
}

function withQueueFlags(command: Command): Command {
  return command
    .addOption(new Option('--queue <url>', 'the dead-letter queue URL').conflicts('dlq'))
    .addOption(
      new Option(
        '--dlq <name>',
        'the DLQ of this stack-file queue: ingest, config-changes, inference-requests',
      ),
    )
    .option('--stack-file <path>', 'local stack file written by `npm run local`', DEFAULT_STACK_FILE);
}
