import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { EmulatorStartError, LocalStateError, LocalStateErrorCode } from '../errors.ts';
import { readStateFile, writeStateFile } from '../state-file.ts';
import { dynamoDbLocalCommand, lastErrorLine, waitUntilAnswering } from './dynamodb-local.ts';
import type { LocalEndpoints } from './embedded.ts';
import { freePort, isPortFree } from './ports.ts';
import { sqsServerScript } from './sqs-local.ts';

/** The emulators `npm run local` keeps running between its runs, one per state directory. */
export type EmulatorName = 'dynamodb' | 'sqs';

const DaemonSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65_535),
  endpoint: z.string().url(),
});

const EmulatorsFileSchema = z.object({
  region: z.string().min(1),
  dynamodb: DaemonSchema,
  sqs: DaemonSchema,
});

/** `<stateDir>/emulators.json`: which daemons serve this state directory. */
export type EmulatorsFile = z.infer<typeof EmulatorsFileSchema>;

export interface EmulatorDaemonsOptions {
  /** Holds `emulators.json`, the daemons' logs and DynamoDB Local's tables (`dynamodb/`). */
  readonly stateDir: string;
  readonly region: string;
  /** Stop the daemons and wipe `stateDir` first. @default false */
  readonly fresh?: boolean;
  /** How long a starting emulator may take to answer. @default 60_000 */
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface EmulatorDaemons {
  readonly endpoints: LocalEndpoints;
  /** Both daemons were already running (a restart); false when one of them had to be started. */
  readonly reattached: boolean;
  readonly pids: Readonly<Record<EmulatorName, number>>;
}

const NAMES = { dynamodb: 'DynamoDB Local', sqs: 'local-aws-sqs' } as const;
/** How long a daemon that runs but does not answer gets before it is replaced. */
const REATTACH_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 8_192;

/** Where a state directory keeps what `startEmulatorDaemons` writes. */
export function emulatorPaths(stateDir: string) {
  const dir = resolve(stateDir);
  return {
    file: join(dir, 'emulators.json'),
    dbPath: join(dir, 'dynamodb'),
    logs: { dynamodb: join(dir, 'dynamodb.log'), sqs: join(dir, 'sqs.log') },
  } as const;
}

/**
 * Starts DynamoDB Local (tables in `<stateDir>/dynamodb`) and local-aws-sqs as detached daemons
 * that outlive this process (a `kill -9` included), or reattaches to the ones `emulators.json`
 * records when they still run and answer. A daemon that has to be started again gets its recorded
 * port when it is free, so endpoints and queue URLs stay the same.
 *
 * @example
 * const { endpoints } = await startEmulatorDaemons({ stateDir: '.local', region: 'us-east-1' });
 * @throws LocalStateError when `emulators.json` is malformed or was written for another region.
 * @throws EmulatorStartError when an emulator does not come up (its log's last error is quoted).
 */
export async function startEmulatorDaemons(options: EmulatorDaemonsOptions): Promise<EmulatorDaemons> {
  if (options.fresh) await stopEmulatorDaemons(options.stateDir, { wipe: true });
  const paths = emulatorPaths(options.stateDir);
  mkdirSync(paths.dbPath, { recursive: true });
  const recorded = await readEmulatorsFile(options.stateDir);
  if (recorded && recorded.region !== options.region) {
    throw new LocalStateError(
      LocalStateErrorCode.regionMismatch,
      paths.file,
      `the emulators run for region ${recorded.region}, not ${options.region}; start with --fresh`,
    );
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const ensure = async (name: EmulatorName) => {
    const previous = recorded?.[name];
    if (previous && (await reattach(name, previous, options.stateDir))) {
      options.log?.(`${NAMES[name]} ${previous.endpoint} (pid ${previous.pid}, still running)`);
      return { daemon: previous, reattached: true };
    }
    if (previous) await stopDaemon(name, previous.pid, options.stateDir);
    const daemon = await startDaemon(name, {
      stateDir: options.stateDir,
      region: options.region,
      port: previous?.port,
      readyTimeoutMs,
    });
    options.log?.(`${NAMES[name]} ${daemon.endpoint} (pid ${daemon.pid}, started; log ${paths.logs[name]})`);
    return { daemon, reattached: false };
  };
  const [dynamodb, sqs] = await Promise.all([ensure('dynamodb'), ensure('sqs')]);
  await writeEmulatorsFile(options.stateDir, {
    region: options.region,
    dynamodb: dynamodb.daemon,
    sqs: sqs.daemon,
  });
  return {
    endpoints: { region: options.region, dynamodb: dynamodb.daemon.endpoint, sqs: sqs.daemon.endpoint },
    reattached: dynamodb.reattached && sqs.reattached,
    pids: { dynamodb: dynamodb.daemon.pid, sqs: sqs.daemon.pid },
  };
}

/**
 * Stops the daemons `emulators.json` records (SIGTERM, then SIGKILL), forgets them, and with
 * `wipe` removes the whole state directory (tables, logs, journal). A malformed file is ignored.
 * Resolves with the pids it stopped.
 */
export async function stopEmulatorDaemons(
  stateDir: string,
  options: { readonly wipe?: boolean } = {},
): Promise<number[]> {
  let recorded: EmulatorsFile | undefined;
  try {
    recorded = await readEmulatorsFile(stateDir);
  } catch (error) {
    if (!(error instanceof LocalStateError)) throw error;
  }
  const stopped: number[] = [];
  if (recorded) {
    for (const name of ['dynamodb', 'sqs'] as const) {
      if (await stopDaemon(name, recorded[name].pid, stateDir)) stopped.push(recorded[name].pid);
    }
  }
  if (options.wipe) await rm(resolve(stateDir), { recursive: true, force: true });
  else await rm(emulatorPaths(stateDir).file, { force: true });
  return stopped;
}

/** `emulators.json`, or undefined when there is none. @throws LocalStateError when it is malformed. */
export async function readEmulatorsFile(stateDir: string): Promise<EmulatorsFile | undefined> {
  return readStateFile(
    emulatorPaths(stateDir).file,
    EmulatorsFileSchema,
    'is not what startEmulatorDaemons writes; start with --fresh',
  );
}

async function writeEmulatorsFile(stateDir: string, content: EmulatorsFile): Promise<void> {
  writeStateFile(emulatorPaths(stateDir).file, content);
}

/**
 * Whether `pid` runs (signal 0 reaches it; EPERM means it runs as someone else). A zombie counts
 * as running here; `commandLineOf` tells it apart (its command line is empty).
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The arguments of a running process (Linux `/proc/<pid>/cmdline`); empty when it is gone or unreadable. */
export function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** What the command line of this state directory's daemon contains, so a recycled pid is not mistaken for it. */
function signatureOf(name: EmulatorName, stateDir: string): readonly string[] {
  return name === 'dynamodb'
    ? ['DynamoDBLocal.jar', emulatorPaths(stateDir).dbPath]
    : [sqsDaemonTag, resolve(stateDir)];
}

/** A marker argument of the local-aws-sqs daemon (`node -e <script> <tag> <stateDir>`). */
const sqsDaemonTag = 'local-aws-sqs-daemon';

function isOurDaemon(name: EmulatorName, pid: number, stateDir: string): boolean {
  if (!isProcessAlive(pid)) return false;
  const args = commandLineOf(pid);
  return signatureOf(name, stateDir).every((part) => args.includes(part));
}

async function reattach(
  name: EmulatorName,
  daemon: z.infer<typeof DaemonSchema>,
  stateDir: string,
): Promise<boolean> {
  if (!isOurDaemon(name, daemon.pid, stateDir)) return false;
  try {
    await waitUntilAnswering(daemon.endpoint, { timeoutMs: REATTACH_TIMEOUT_MS, emulator: NAMES[name] });
    return true;
  } catch {
    return false;
  }
}

/** Stops the daemon if `pid` is still it; resolves with whether it was. */
async function stopDaemon(name: EmulatorName, pid: number, stateDir: string): Promise<boolean> {
  if (!isOurDaemon(name, pid, stateDir)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isOurDaemon(name, pid, stateDir) && Date.now() < deadline) await sleep(50);
  if (isOurDaemon(name, pid, stateDir)) {
    process.kill(pid, 'SIGKILL');
    while (isOurDaemon(name, pid, stateDir)) await sleep(50);
  }
  return true;
}

interface StartDaemonOptions {
  readonly stateDir: string;
  readonly region: string;
  /** The port it had before, taken again when free. */
  readonly port: number | undefined;
  readonly readyTimeoutMs: number;
}

async function startDaemon(
  name: EmulatorName,
  options: StartDaemonOptions,
): Promise<z.infer<typeof DaemonSchema>> {
  // DynamoDB Local binds every interface; local-aws-sqs 127.0.0.1 only.
  const host = name === 'dynamodb' ? undefined : '127.0.0.1';
  const port =
    options.port !== undefined && (await isPortFree(options.port, host))
      ? options.port
      : await freePort(host);
  const paths = emulatorPaths(options.stateDir);
  const command =
    name === 'dynamodb'
      ? { file: 'java', ...dynamoDbLocalCommand(port, { dbPath: paths.dbPath }) }
      : {
          file: process.execPath,
          cwd: process.cwd(),
          args: [
            '--input-type=module',
            '-e',
            sqsServerScript(options.region, { port }),
            sqsDaemonTag,
            resolve(options.stateDir),
          ],
        };
  const logFd = openSync(paths.logs[name], 'a');
  const child = spawn(command.file, command.args, {
    cwd: command.cwd,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  child.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (cause: NodeJS.ErrnoException) => {
      const detail = cause.code === 'ENOENT' ? `${command.file} was not found on PATH` : cause.message;
      reject(new EmulatorStartError(NAMES[name], detail, logTail(paths.logs[name]), { cause }));
    });
    child.once('exit', (code, signal) => {
      const tail = logTail(paths.logs[name]);
      const reason = lastErrorLine(tail) ?? `see ${paths.logs[name]}`;
      reject(new EmulatorStartError(NAMES[name], `exited (${signal ?? `code ${code}`}): ${reason}`, tail));
    });
  });
  failed.catch(() => {});
  const probing = new AbortController();
  try {
    await Promise.race([
      waitUntilAnswering(endpoint, {
        timeoutMs: options.readyTimeoutMs,
        signal: probing.signal,
        emulator: NAMES[name],
      }),
      failed,
    ]);
  } catch (error) {
    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    throw error;
  } finally {
    probing.abort();
  }
  // Once it answers, its exit is no longer this process's concern.
  child.removeAllListeners('exit');
  return { pid: child.pid!, port, endpoint };
}

function logTail(path: string): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').slice(-LOG_TAIL_CHARS);
}
