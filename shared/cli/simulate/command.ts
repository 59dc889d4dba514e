/** `pipeline simulate`: the commander definition of its arguments and flags (the workload flags are advise's). */

import { Command } from 'commander';
import { positiveNumber, withSampleAnalysisOptions } from '../advise/flags.ts';
import type { CliIo } from '../io.ts';
import { withSyntheticWorkloadOptions } from '../send/flags.ts';
import { runSimulate, type SimulateFlags } from './run.ts';

export function simulateCommand(io: CliIo): Command {
  const command = new Command('simulate')
    .summary('simulate the deployed pipeline at a rate: latency, backlog, throttling, cost')
    .description(
      'Simulate SQS → event source → Lambda → WriteBatcher → DynamoDB (and the GPU tier) with the settings of the ' +
        'synthesized templates (--cdk-out) and a workload — a JSONL sample, stdin (-), or the synthetic workload of ' +
        '`pipeline send` (--count) — at --rate messages/s for --duration seconds. Seeded: the same flags give the same result.',
    )
    .argument('[file]', 'JSONL sample, or - for stdin')
    .requiredOption(
      '--rate <messages/s>',
      'mean arrival rate (1 to 1,000,000; validated from 1,000)',
      positiveNumber,
    )
    .option('--duration <s>', 'seconds of arrivals (at most 86,400)', positiveNumber, 60)
    .option(
      '--drain <s>',
      'seconds simulated after the arrivals stop, while messages remain',
      nonNegative,
      60,
    )
    .option(
      '--cdk-out <dir>',
      'cloud assembly to read the settings from (default: ./cdk.out, synthesized if absent)',
    )
    .option('--step-ms <ms>', 'time step of the model', positiveNumber, 10)
    .option('--json', 'print the result as one JSON object')
    .option('--report <path>', 'also write charts: a .svg image or an .html page')
    .option('--gpu-jobs-per-sec <n>', 'GPU: inference jobs/s arriving', positiveNumber)
    .option('--gpu-task-jobs-per-sec <n>', 'GPU: jobs/s one GPU task sustains', positiveNumber)
    .option('--gpu-start-seconds <s>', 'GPU: seconds for a new instance to serve', positiveNumber, 300);
  return withSyntheticWorkloadOptions(withSampleAnalysisOptions(command), {
    seed: 'PRNG seed of the simulation (and of a synthetic sample)',
  }).action(async (file: string | undefined, flags: SimulateFlags, command: Command) => {
    const userSet = (name: string) => command.getOptionValueSource(name) === 'cli';
    await runSimulate(file, flags, userSet, io);
  });
}

function nonNegative(value: string): number {
  return value.trim() === '0' ? 0 : positiveNumber(value);
}
