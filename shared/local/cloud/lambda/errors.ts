import { PipelineError } from '../../../core/errors.ts';

/**
 * Base of the errors `FunctionPool.invoke` rejects with. `errorType` is what Lambda reports for the
 * same failure (the `errorType` of an Invoke error response), `code` is ours.
 */
export abstract class FunctionInvokeError extends PipelineError {
  abstract readonly errorType: string;
  constructor(
    readonly functionName: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${functionName}: ${message}`, options);
  }
}

/** The handler threw (or its promise rejected); the instance stays warm, as on Lambda. */
export class FunctionError extends FunctionInvokeError {
  readonly code = 'FUNCTION_ERROR';
  constructor(
    functionName: string,
    /** The thrown error's name, e.g. `TypeError`, or `typeof` a thrown non-error. */
    readonly errorType: string,
    readonly errorMessage: string,
    /** The stack inside the function (source-mapped when its NODE_OPTIONS has --enable-source-maps). */
    readonly functionStack?: string,
  ) {
    super(functionName, `${errorType}: ${errorMessage}`);
  }
}

/**
 * The instance did not start: its module failed to load (`Runtime.ImportModuleError`,
 * `Runtime.UserCodeSyntaxError`, or the error its top level threw), the handler is missing
 * (`Runtime.HandlerNotFound`, `Runtime.MalformedHandlerName`), the process exited
 * (`Runtime.ExitError`) or init ran past its limit (`Sandbox.Timedout`).
 */
export class FunctionInitError extends FunctionInvokeError {
  readonly code = 'FUNCTION_INIT';
  constructor(
    functionName: string,
    readonly errorType: string,
    readonly errorMessage: string,
    /** The last lines the instance wrote to stderr. */
    readonly stderrTail = '',
    /** The stack of the error the module threw while loading, when it threw one. */
    readonly functionStack?: string,
  ) {
    super(functionName, `init failed: ${errorType}: ${errorMessage}`);
  }
}

/** The invocation ran past the function timeout; its instance was killed (SIGKILL) and discarded. */
export class FunctionTimeoutError extends FunctionInvokeError {
  readonly code = 'FUNCTION_TIMEOUT';
  readonly errorType = 'Sandbox.Timedout';
  override readonly retryable = true;
  constructor(
    functionName: string,
    readonly timeoutMs: number,
  ) {
    super(functionName, `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
  }
}

/** The instance exited mid-invocation (`process.exit`, an uncaught exception, a signal); the next invocation gets a new one. */
export class FunctionCrashError extends FunctionInvokeError {
  readonly code = 'FUNCTION_CRASH';
  readonly errorType = 'Runtime.ExitError';
  override readonly retryable = true;
  constructor(
    functionName: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    /** The last lines the instance wrote to stderr (an uncaught exception's stack lands there). */
    readonly stderrTail = '',
  ) {
    super(
      functionName,
      `Runtime exited with error: ${signal ? `signal ${signal}` : `exit status ${exitCode}`}`,
    );
  }
}

/** `invoke` was called on a stopped pool, or the pool stopped while the invocation waited or ran. */
export class FunctionPoolStoppedError extends PipelineError {
  readonly code = 'FUNCTION_POOL_STOPPED';
  constructor(readonly functionName: string) {
    super(`${functionName}: the function pool is stopped`);
  }
}
