import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  functionOption,
  InvalidOptionError,
  integerOption,
  numberOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
  positiveNumberOption,
  textOption,
} from '../../../core/options.ts';
import {
  FunctionCrashError,
  FunctionInitError,
  FunctionPoolStoppedError,
  FunctionTimeoutError,
} from './errors.ts';
import { FunctionInstance } from './instance.ts';

/** Where a log line came from. */
export interface FunctionLogSource {
  readonly functionName: string;
  /** The instance's number within its pool (1, 2, …). */
  readonly instance: number;
}

export interface FunctionPoolOptions {
  readonly functionName: string;
  /** The function's code folder: its asset in `cdk.out` (`asset.<hash>`). */
  readonly taskRoot: string;
  /** The template's `Handler`, e.g. `index.handler`. */
  readonly handler: string;
  /**
   * Exactly the environment of every instance: nothing of this process's own environment is added.
   * Build it with `mergeFunctionEnv(lambdaRuntimeEnv(…), templateVariables)`. Its `_HANDLER` and
   * `LAMBDA_TASK_ROOT`, when set, must match `handler` and `taskRoot`; when not, they are added
   * (`LAMBDA_TASK_ROOT` always as an absolute path).
   */
  readonly env: Readonly<Record<string, string>>;
  /** The function's `Timeout`, counted from the start of each invocation (init is not included). */
  readonly timeoutMs: number;
  /** Most instances at once: the effective concurrency, e.g. min(reserved concurrency, event source MaximumConcurrency). */
  readonly maxInstances: number;
  /** Caps each instance's heap the way Lambda's Node.js bootstrap does for this memory size. @default no cap */
  readonly memoryMiB?: number;
  /** Lambda's limit on an on-demand init (loading the module); past it the instance is killed. @default 10_000 */
  readonly initTimeoutMs?: number;
  /** The account in `context.invokedFunctionArn`. @default '123456789012' (local-aws-sqs's account) */
  readonly accountId?: string;
  /** Gets every line an instance writes to stdout or stderr. @default writes `[<functionName>#<instance>] <line>` to stderr */
  readonly onLog?: (line: string, source: FunctionLogSource) => void;
}

const FunctionPoolOptionsSchema = z.object({
  functionName: textOption('a function name'),
  taskRoot: textOption('the path of the function code folder'),
  handler: textOption('a handler, e.g. index.handler'),
  env: objectOption<Readonly<Record<string, string>>>('an object of environment variables'),
  timeoutMs: numberOption(1, 900_000),
  maxInstances: integerOption(1, 1000),
  memoryMiB: integerOption(128, 10_240).optional(),
  initTimeoutMs: positiveNumberOption().default(10_000),
  accountId: textOption('a 12-digit account id').default('123456789012'),
  onLog: functionOption<(line: string, source: FunctionLogSource) => void>().default(
    () => (line: string, source: FunctionLogSource) =>
      process.stderr.write(`[${source.functionName}#${source.instance}] ${line}\n`),
  ),
}) satisfies OptionsSchema<FunctionPoolOptions>;

/** What a pool has done so far, and what it holds now. */
export interface FunctionPoolStats {
  /** `invoke` calls. */
  readonly invocations: number;
  /** Instances started (successfully or not). */
  readonly coldStarts: number;
  /** Invocations that ran past the timeout. */
  readonly timeouts: number;
  /** Instances that exited while serving an invocation. */
  readonly crashes: number;
  /** Invocations whose handler threw. */
  readonly errors: number;
  /** Instances that failed to start. */
  readonly initErrors: number;
  /** Instances alive now (starting, idle or busy). */
  readonly instances: number;
  /** Invocations waiting for an instance now. */
  readonly queued: number;
}

/** Per-invocation details. */
export interface InvokeOptions {
  /** `context.awsRequestId`. @default a fresh UUID */
  readonly requestId?: string;
}

interface Waiting {
  readonly event: unknown;
  readonly requestId: string;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A function's execution environments, as Lambda keeps them: each invocation runs on an idle warm
 * instance, or on a new one (a cold start: a child process loads the asset) while fewer than
 * `maxInstances` exist; beyond that invocations wait, first come first served. An instance runs one
 * invocation at a time. One that times out is killed; one that exits is replaced on demand. Lambda
 * freezes an idle environment; here it keeps running (timers fire between invocations).
 *
 * @example
 * await using pool = new FunctionPool({
 *   functionName: 'batch-writer', taskRoot: 'cdk.out/asset.<hash>', handler: 'index.handler',
 *   env: mergeFunctionEnv(lambdaRuntimeEnv({ … }), templateVariables), timeoutMs: 60_000, maxInstances: 5,
 * });
 * const response = await pool.invoke(sqsEvent);
 */
export class FunctionPool {
  readonly functionName: string;
  readonly taskRoot: string;
  readonly handler: string;
  readonly timeoutMs: number;
  readonly maxInstances: number;
  private readonly env: Readonly<Record<string, string>>;
  private readonly execArgv: readonly string[];
  readonly initTimeoutMs: number;
  private readonly invokedFunctionArn: string;
  private readonly onLog: (line: string, source: FunctionLogSource) => void;
  private readonly instances = new Set<FunctionInstance>();
  /** Warm and unused; the most recently used is taken first, so surplus instances stay unused. */
  private readonly idle: FunctionInstance[] = [];
  private readonly waiting: Waiting[] = [];
  /** Invocations handed to an instance and not yet settled, to reject them on `stop`. */
  private readonly running = new Set<Waiting>();
  private readonly counts = {
    invocations: 0,
    coldStarts: 0,
    timeouts: 0,
    crashes: 0,
    errors: 0,
    initErrors: 0,
  };
  private nextInstanceId = 1;
  private stopped = false;

  /** @throws InvalidOptionError when an option is out of range, or `env` contradicts `handler` or `taskRoot`. */
  constructor(options: FunctionPoolOptions) {
    const o = parseOptions('FunctionPool', FunctionPoolOptionsSchema, options);
    this.functionName = o.functionName;
    this.taskRoot = resolve(o.taskRoot);
    this.handler = o.handler;
    this.timeoutMs = o.timeoutMs;
    this.maxInstances = o.maxInstances;
    this.initTimeoutMs = o.initTimeoutMs;
    this.onLog = o.onLog;
    const region = o.env.AWS_REGION ?? 'us-east-1';
    this.invokedFunctionArn = `arn:aws:lambda:${region}:${o.accountId}:function:${o.functionName}`;
    this.env = withCode(o.env, this.taskRoot, o.handler);
    this.execArgv = o.memoryMiB === undefined ? [] : heapFlags(o.memoryMiB);
  }

  get stats(): FunctionPoolStats {
    return { ...this.counts, instances: this.instances.size, queued: this.waiting.length };
  }

  /**
   * Runs the handler with `event` and resolves with what it returned (through JSON, as on Lambda).
   *
   * @throws FunctionError when the handler throws; FunctionTimeoutError past `timeoutMs`;
   *   FunctionCrashError when the instance exits mid-invocation; FunctionInitError when a new instance
   *   cannot load the handler; FunctionPoolStoppedError once `stop` is called.
   */
  invoke(event: unknown, options: InvokeOptions = {}): Promise<unknown> {
    if (this.stopped) return Promise.reject(new FunctionPoolStoppedError(this.functionName));
    this.counts.invocations++;
    return new Promise((resolve, reject) => {
      this.waiting.push({ event, requestId: options.requestId ?? randomUUID(), resolve, reject });
      this.dispatch();
    });
  }

  /** Rejects waiting and running invocations, kills every instance, and resolves once they are gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const invocation of [...this.waiting.splice(0), ...this.running]) {
      invocation.reject(new FunctionPoolStoppedError(this.functionName));
    }
    this.running.clear();
    this.idle.length = 0;
    await Promise.all([...this.instances].map((instance) => instance.kill()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Hands waiting invocations to idle instances, or to new ones while there is room. */
  private dispatch(): void {
    while (!this.stopped && this.waiting.length > 0) {
      const warm = this.idle.pop();
      if (warm?.idle) {
        void this.run(warm, this.waiting.shift()!);
      } else if (warm === undefined && this.instances.size < this.maxInstances) {
        void this.coldStart(this.waiting.shift()!);
      } else if (warm === undefined) {
        return;
      }
    }
  }

  private async coldStart(invocation: Waiting): Promise<void> {
    this.counts.coldStarts++;
    const id = this.nextInstanceId++;
    const source = { functionName: this.functionName, instance: id };
    const instance = new FunctionInstance({
      functionName: this.functionName,
      id,
      taskRoot: this.taskRoot,
      env: this.env,
      execArgv: this.execArgv,
      initTimeoutMs: this.initTimeoutMs,
      onLog: (line) => this.onLog(line, source),
    });
    this.instances.add(instance);
    void instance.closed.then(() => this.discard(instance));
    this.running.add(invocation);
    try {
      await instance.ready;
    } catch (error) {
      if (!this.stopped) this.counts.initErrors++;
      this.running.delete(invocation);
      invocation.reject(error);
      return;
    }
    this.running.delete(invocation);
    await this.run(instance, invocation);
  }

  private async run(instance: FunctionInstance, invocation: Waiting): Promise<void> {
    if (this.stopped) return;
    this.running.add(invocation);
    try {
      const result = await instance.invoke({
        event: invocation.event,
        requestId: invocation.requestId,
        invokedFunctionArn: this.invokedFunctionArn,
        timeoutMs: this.timeoutMs,
      });
      invocation.resolve(result);
    } catch (error) {
      this.count(error);
      invocation.reject(error);
    } finally {
      this.running.delete(invocation);
    }
    if (instance.idle) this.idle.push(instance);
    this.dispatch();
  }

  private count(error: unknown): void {
    if (this.stopped) return;
    if (error instanceof FunctionTimeoutError) this.counts.timeouts++;
    else if (error instanceof FunctionCrashError) this.counts.crashes++;
    else if (!(error instanceof FunctionInitError)) this.counts.errors++;
  }

  /** An instance is gone (killed, crashed, failed to start): free its slot for a waiting invocation. */
  private discard(instance: FunctionInstance): void {
    this.instances.delete(instance);
    const at = this.idle.indexOf(instance);
    if (at >= 0) this.idle.splice(at, 1);
    this.dispatch();
  }
}

/** `env` with `_HANDLER` and `LAMBDA_TASK_ROOT`, which the instance loads the handler from. */
function withCode(
  env: Readonly<Record<string, string>>,
  taskRoot: string,
  handler: string,
): Readonly<Record<string, string>> {
  if (env._HANDLER !== undefined && env._HANDLER !== handler)
    throw new InvalidOptionError(
      'FunctionPool',
      'env._HANDLER',
      env._HANDLER,
      `the handler option (${handler})`,
    );
  if (env.LAMBDA_TASK_ROOT !== undefined && resolve(env.LAMBDA_TASK_ROOT) !== taskRoot)
    throw new InvalidOptionError(
      'FunctionPool',
      'env.LAMBDA_TASK_ROOT',
      env.LAMBDA_TASK_ROOT,
      `the taskRoot option (${taskRoot})`,
    );
  // Absolute: the instance runs in the task root, where a relative path would point elsewhere.
  return { ...env, _HANDLER: handler, LAMBDA_TASK_ROOT: taskRoot };
}

/**
 * The heap limits Lambda's Node.js bootstrap derives from the memory size: a tenth of it for the
 * young generation (half of that per semi-space), the rest for the old generation.
 */
function heapFlags(memoryMiB: number): string[] {
  const newSpace = Math.floor(memoryMiB / 10);
  return [
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMiB - newSpace}`,
  ];
}
