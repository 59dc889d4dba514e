import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Runs the worker as a real child process (`node --import tsx functions/gpu-worker/main.ts`), the
 * way tests, the demo and the benchmark use it: configured through environment variables, stopped
 * with SIGTERM or killed with SIGKILL. Its JSON log lines are parsed and kept.
 */

export const WORKER_MAIN = fileURLToPath(new URL('../../../functions/gpu-worker/main.ts', import.meta.url));

/** One structured log line of the worker (Powertools Logger JSON). */
export interface WorkerLogEntry {
  readonly level?: string;
  readonly message?: string;
  readonly [key: string]: unknown;
}

export interface LocalWorkerOptions {
  /** Worker variables (WORK_QUEUE_URL, JOBS_TABLE, MODEL_REPOSITORY, MAX_BATCH …), over `process.env`. */
  readonly env: Readonly<Record<string, string>>;
  /** Gets every output line that is not a JSON log entry (and every line when `echo`). */
  readonly onLine?: (line: string) => void;
  /** Pass every line to `onLine`, JSON or not. @default false */
  readonly echo?: boolean;
  /** Run this esbuild bundle of main.ts (what the image runs) instead of main.ts through tsx. */
  readonly bundle?: string;
}

export interface LocalWorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface LocalWorker {
  readonly pid: number;
  /** Log entries so far. */
  readonly logs: readonly WorkerLogEntry[];
  /** Resolves with the `worker ready` entry (cold start phases); rejects if the process exits first. */
  readonly ready: Promise<WorkerLogEntry>;
  readonly exited: Promise<LocalWorkerExit>;
  /** Resolves with the first entry (past or future) that matches; rejects after `timeoutMs` or on exit. */
  waitFor(predicate: (entry: WorkerLogEntry) => boolean, timeoutMs?: number): Promise<WorkerLogEntry>;
  /** Sends a signal (SIGTERM: graceful stop; SIGKILL: crash). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<LocalWorkerExit>;
}

export function spawnLocalWorker(options: LocalWorkerOptions): LocalWorker {
  const args = options.bundle ? [options.bundle] : ['--import', 'tsx', WORKER_MAIN];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: WorkerLogEntry[] = [];
  const watchers = new Set<(entry: WorkerLogEntry) => void>();
  const onLine = (line: string) => {
    let entry: WorkerLogEntry | undefined;
    if (line.startsWith('{')) {
      try {
        entry = JSON.parse(line) as WorkerLogEntry;
      } catch {
        entry = undefined;
      }
    }
    if (entry && typeof entry.message === 'string') {
      logs.push(entry);
      for (const watch of watchers) watch(entry);
      if (options.echo) options.onLine?.(line);
    } else if (!(entry && '_aws' in entry)) {
      options.onLine?.(line);
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);

  const exited = new Promise<LocalWorkerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const waitFor = (predicate: (entry: WorkerLogEntry) => boolean, timeoutMs = 60_000) =>
    new Promise<WorkerLogEntry>((resolve, reject) => {
      const found = logs.find(predicate);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error(`worker ${child.pid}: no matching log entry within ${timeoutMs} ms`));
      }, timeoutMs);
      const watch = (entry: WorkerLogEntry) => {
        if (!predicate(entry)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(entry);
      };
      watchers.add(watch);
      void exited.then(({ code, signal }) => {
        if (!watchers.has(watch)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        reject(
          new Error(
            `worker ${child.pid} exited (code ${code}, signal ${signal}) before the expected log entry`,
          ),
        );
      });
    });

  const ready = waitFor((e) => e.message === 'worker ready', 120_000);
  // Callers that never await `ready` (a worker killed early) must not see an unhandled rejection.
  ready.catch(() => undefined);
  return {
    pid: child.pid ?? -1,
    logs,
    ready,
    exited,
    waitFor,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

/**
 * A local worker's environment on the local inference resources: CPU, no S3 inputs, no readiness
 * file, no metrics, and `RECEIVE_WAIT_SECONDS=0` because local-aws-sqs answers a long poll only once
 * it has MaxNumberOfMessages or the wait is over. `overrides` win.
 */
export function localWorkerEnv(
  resources: { readonly workQueueUrl: string; readonly jobsTable: string },
  modelRepository: string,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    WORK_QUEUE_URL: resources.workQueueUrl,
    JOBS_TABLE: resources.jobsTable,
    MODEL_REPOSITORY: modelRepository,
    EXECUTION_PROVIDER: 'cpu',
    S3_INPUTS: 'disabled',
    RECEIVE_WAIT_SECONDS: '0',
    READY_FILE: '',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...overrides,
  };
}
