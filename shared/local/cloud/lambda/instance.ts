import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { FunctionCrashError, FunctionError, FunctionInitError, FunctionTimeoutError } from './errors.ts';
import type { InstanceMessage, InvokeMessage, ReportedError } from './protocol.ts';

const INSTANCE_MAIN = fileURLToPath(new URL('./instance-main.ts', import.meta.url));
/** Lines of stderr kept for the errors of an instance that failed. */
const STDERR_TAIL_LINES = 20;

export interface FunctionInstanceOptions {
  readonly functionName: string;
  /** 1, 2, … within its pool; names the instance in log lines. */
  readonly id: number;
  readonly taskRoot: string;
  /** Exactly the instance's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Node flags for the instance (heap limits), on top of what the env's NODE_OPTIONS asks for. */
  readonly execArgv: readonly string[];
  readonly initTimeoutMs: number;
  readonly onLog: (line: string) => void;
}

export interface InvocationRequest {
  readonly event: unknown;
  readonly requestId: string;
  readonly invokedFunctionArn: string;
  readonly timeoutMs: number;
}

interface Pending {
  readonly id: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One execution environment: a child process running `instance-main.ts`, serving one invocation at
 * a time. The pool decides when to use, keep or discard it; this class only talks to the process.
 */
export class FunctionInstance {
  readonly id: number;
  /** Resolves once the handler is loaded; rejects with `FunctionInitError` once the failed process is gone. */
  readonly ready: Promise<void>;
  /** Resolves once the process has exited and its output has been read. */
  readonly closed: Promise<void>;
  private readonly functionName: string;
  private readonly child: ChildProcess;
  private readonly stderrTail: string[] = [];
  private state: 'starting' | 'idle' | 'busy' | 'gone' = 'starting';
  private pending: Pending | undefined;
  private nextInvocationId = 1;
  private killed = false;

  constructor(options: FunctionInstanceOptions) {
    this.id = options.id;
    this.functionName = options.functionName;
    this.child = fork(INSTANCE_MAIN, [], {
      cwd: options.taskRoot,
      env: { ...options.env },
      execArgv: [...options.execArgv],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.readLines(this.child.stdout!, options.onLog);
    this.readLines(this.child.stderr!, (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      options.onLog(line);
    });

    const ready = Promise.withResolvers<void>();
    this.ready = ready.promise;
    // Why init failed; `ready` rejects once the process is gone, with all it wrote to stderr.
    let initFailure: ReportedError | undefined;
    const failInit = (failure: ReportedError) => {
      if (this.state !== 'starting' || initFailure !== undefined) return;
      initFailure = failure;
      void this.kill();
    };
    const initTimer = setTimeout(
      () =>
        failInit({
          errorType: 'Sandbox.Timedout',
          errorMessage: `Init timed out after ${(options.initTimeoutMs / 1000).toFixed(2)} seconds`,
        }),
      options.initTimeoutMs,
    );
    let spawnError: Error | undefined;
    this.child.on('error', (error) => {
      spawnError ??= error;
    });
    this.child.on('message', (message: InstanceMessage) => {
      if (message.type === 'ready' && this.state === 'starting' && initFailure === undefined) {
        clearTimeout(initTimer);
        this.state = 'idle';
        ready.resolve();
      } else if (message.type === 'init-error') {
        failInit(message.error);
      } else if (message.type === 'result' || message.type === 'error') {
        this.settle(message);
      }
    });
    this.closed = new Promise((resolve) => {
      this.child.on('close', (exitCode, signal) => {
        clearTimeout(initTimer);
        if (this.state === 'starting') {
          const why = spawnError ? String(spawnError) : exitStatus(exitCode, signal);
          const { errorType, errorMessage, stack } = initFailure ?? {
            errorType: 'Runtime.ExitError',
            errorMessage: `Runtime exited with error: ${why}`,
          };
          ready.reject(new FunctionInitError(this.functionName, errorType, errorMessage, this.tail(), stack));
        }
        this.state = 'gone';
        const pending = this.pending;
        this.pending = undefined;
        if (pending) {
          clearTimeout(pending.timer);
          pending.reject(new FunctionCrashError(this.functionName, exitCode, signal, this.tail()));
        }
        resolve();
      });
    });
  }

  /** Ready and not running an invocation. */
  get idle(): boolean {
    return this.state === 'idle' && !this.killed;
  }

  /**
   * Runs one invocation. Past `timeoutMs` the process is killed and this rejects with
   * `FunctionTimeoutError`; an exit mid-invocation rejects with `FunctionCrashError`, a handler error
   * with `FunctionError`.
   */
  invoke(request: InvocationRequest): Promise<unknown> {
    if (!this.idle) throw new Error(`instance ${this.id} of ${this.functionName} is ${this.state}`);
    this.state = 'busy';
    const id = this.nextInvocationId++;
    const message: InvokeMessage = {
      id,
      event: request.event,
      deadlineMs: Date.now() + request.timeoutMs,
      requestId: request.requestId,
      functionName: this.functionName,
      invokedFunctionArn: request.invokedFunctionArn,
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        void this.kill();
        reject(new FunctionTimeoutError(this.functionName, request.timeoutMs));
      }, request.timeoutMs);
      this.pending = { id, timer, resolve, reject };
      try {
        // A failed send means the process is gone: its 'close' rejects the invocation.
        this.child.send(message, () => {});
      } catch (error) {
        // The event cannot be serialized (a BigInt, a cycle): the instance never saw it.
        clearTimeout(timer);
        this.pending = undefined;
        this.state = 'idle';
        reject(error);
      }
    });
  }

  /** Kills the process (SIGKILL, as Lambda ends an environment) and resolves once it is gone. */
  kill(): Promise<void> {
    if (!this.killed) {
      this.killed = true;
      this.child.kill('SIGKILL');
    }
    return this.closed;
  }

  private settle(message: Extract<InstanceMessage, { type: 'result' | 'error' }>): void {
    const pending = this.pending;
    if (pending === undefined || pending.id !== message.id) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    this.state = 'idle';
    if (message.type === 'result') pending.resolve(message.result);
    else {
      const { errorType, errorMessage, stack } = message.error;
      pending.reject(new FunctionError(this.functionName, errorType, errorMessage, stack));
    }
  }

  private readLines(stream: Readable, onLine: (line: string) => void): void {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
  }

  private tail(): string {
    return this.stderrTail.join('\n');
  }
}

function exitStatus(exitCode: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit status ${exitCode}`;
}
