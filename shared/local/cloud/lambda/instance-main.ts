/**
 * One function instance: what a `FunctionPool` forks (`node instance-main.ts`, with exactly the
 * instance's environment and the asset folder as its working directory). It loads the handler the
 * way Lambda's Node.js runtime does, from `LAMBDA_TASK_ROOT` and `_HANDLER`, tells the parent it is
 * ready (or why it could not start), then runs the invocations the parent sends, one at a time.
 *
 * Node runs this file with its built-in type stripping, so it must stay erasable TypeScript (no
 * enums, parameter properties or namespaces) and load only Node built-ins: the repository's other
 * modules are not all erasable. `protocol.ts` is imported for its types only, which Node erases.
 * Error stacks are source-mapped when `NODE_OPTIONS` holds `--enable-source-maps`, as on Lambda.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isNativeError } from 'node:util/types';
import type { InstanceMessage, InvokeMessage, ReportedError } from './protocol.ts';

type Handler = (event: unknown, context: LambdaContext) => unknown;

/** The context Lambda's Node.js 24 runtime passes (it has no `done`/`succeed`/`fail` any more). */
interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  getRemainingTimeInMillis(): number;
}

/** An init error with one of the `Runtime.*` types Lambda reports. */
class RuntimeError extends Error {
  constructor(type: string, message: string) {
    super(message);
    this.name = type;
  }
}

/** Lambda tries these in this order for `<module>` of `<module>.<export>`. */
const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;

// Read once at start, as Lambda's runtime does: a handler that edits process.env changes nothing here.
const runtimeEnv = {
  taskRoot: process.env.LAMBDA_TASK_ROOT ?? process.cwd(),
  handler: process.env._HANDLER ?? '',
  functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
  memoryMiB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
  logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
  logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
};

function send(message: InstanceMessage): void {
  process.send?.(message);
}

/** `<dir>/<module>.<export.path>` → where the module lies and which export to call. */
function parseHandler(spec: string): { readonly modulePath: string; readonly exportPath: string[] } {
  if (spec.includes('..'))
    throw new RuntimeError(
      'Runtime.MalformedHandlerName',
      `'${spec}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  const name = basename(spec);
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1)
    throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  const moduleRoot = spec.slice(0, spec.length - name.length);
  return {
    modulePath: resolve(runtimeEnv.taskRoot, moduleRoot, name.slice(0, dot)),
    exportPath: name.slice(dot + 1).split('.'),
  };
}

async function importModule(modulePath: string): Promise<Record<string, unknown>> {
  const file = MODULE_EXTENSIONS.map((extension) => modulePath + extension).find((path) => existsSync(path));
  if (file === undefined)
    throw new RuntimeError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${basename(modulePath)}'`,
    );
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof SyntaxError) throw new RuntimeError('Runtime.UserCodeSyntaxError', String(error));
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new RuntimeError('Runtime.ImportModuleError', String(error));
    // Any other error thrown while the module initialises is reported as itself, as on Lambda.
    throw error;
  }
}

function exportAt(namespace: Record<string, unknown>, path: readonly string[]): unknown {
  const walk = (root: unknown) =>
    path.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], root);
  // A CommonJS module's exports sit under `default` when loaded with import().
  return walk(namespace) ?? walk(namespace.default);
}

async function loadHandler(): Promise<Handler> {
  const { modulePath, exportPath } = parseHandler(runtimeEnv.handler);
  const handler = exportAt(await importModule(modulePath), exportPath);
  if (handler === undefined)
    throw new RuntimeError('Runtime.HandlerNotFound', `${runtimeEnv.handler} is undefined or not exported`);
  if (typeof handler !== 'function')
    throw new RuntimeError('Runtime.HandlerNotFound', `${runtimeEnv.handler} is not a function`);
  return handler as Handler;
}

/** Lambda's shape for a thrown value: an error's name and message, anything else by its type. */
function reported(error: unknown): ReportedError {
  if (isNativeError(error) || error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
  }
  return { errorType: typeof error, errorMessage: String(error) };
}

function contextFor(message: InvokeMessage): LambdaContext {
  const { deadlineMs } = message;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: message.functionName,
    functionVersion: runtimeEnv.functionVersion,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: runtimeEnv.memoryMiB,
    awsRequestId: message.requestId,
    logGroupName: runtimeEnv.logGroupName ?? `/aws/lambda/${message.functionName}`,
    logStreamName: runtimeEnv.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
  };
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  try {
    const result = await handler(message.event, contextFor(message));
    send({ type: 'result', id: message.id, result });
  } catch (error) {
    // Also reached when the result cannot be serialized (a cycle): the invocation fails with that error.
    send({ type: 'error', id: message.id, error: reported(error) });
  }
}

async function main(): Promise<void> {
  // Without a parent there is nobody to serve: exit rather than linger as an orphan.
  process.on('disconnect', () => process.exit());
  let handler: Handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    send({ type: 'init-error', error: reported(error) });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  process.on('message', (message: InvokeMessage) => {
    void invoke(handler, message);
  });
  send({ type: 'ready' });
}

await main();
