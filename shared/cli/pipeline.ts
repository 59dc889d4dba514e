#!/usr/bin/env -S npx tsx
/**
 * The `pipeline` CLI's entry point (package.json `bin`, `npm run pipeline`): the program with its
 * commands, `runCli` turning its errors into exit statuses, and `main` for the process.
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { StackFileError } from '../local/errors.ts';
import { adviseCommand } from './advise/command.ts';
import { dlqCommand } from './dlq/command.ts';
import { CliError } from './errors.ts';
import type { CliIo } from './io.ts';
import { sendCommand } from './send/command.ts';
import { simulateCommand } from './simulate/command.ts';
import { snapshotCommand } from './snapshot/command.ts';

/**
 * The `pipeline` command-line program. `setExitCode` receives a command's exit status; errors are
 * thrown (commander's as `CommanderError`, ours as `CliError`). `runCli` wires both to a number.
 */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void = () => {}): Command {
  const program = new Command('pipeline')
    .description('Tools for the SQS → Lambda → DynamoDB batch-write pipeline')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  // addCommand() does not pass settings down the way command() does.
  return program
    .addCommand(sendCommand(io, setExitCode).copyInheritedSettings(program))
    .addCommand(snapshotCommand(io).copyInheritedSettings(program))
    .addCommand(dlqCommand(io, setExitCode).copyInheritedSettings(program))
    .addCommand(adviseCommand(io).copyInheritedSettings(program))
    .addCommand(simulateCommand(io).copyInheritedSettings(program));
}

/**
 * Runs the CLI in-process and returns its exit status: 0 success, 1 some messages failed to send (or
 * to redrive), 2 bad input (flags, files, JSONL lines, stack file), 130 interrupted.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message; help and version are not failures.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError || error instanceof StackFileError) {
      io.stderr.write(`error: ${error.message}\n`);
      return error instanceof CliError ? error.exitCode : 2;
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    signal: controller.signal,
  });
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) await main();
