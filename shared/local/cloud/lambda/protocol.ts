/**
 * The messages between a `FunctionPool` and a function instance (`instance-main.ts`), over the Node
 * IPC channel with JSON serialization (so results are what `JSON.stringify` keeps, as on Lambda).
 * Types only: `instance-main.ts` imports this file with `import type`, which Node's type stripping
 * erases, so the instance loads no module of this repository.
 */

/** An error as Lambda reports it: `errorType` is the error's name or a `Runtime.*` type. */
export interface ReportedError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stack?: string;
}

/** Parent → instance: run one invocation. */
export interface InvokeMessage {
  readonly id: number;
  readonly event: unknown;
  /** Epoch ms; `context.getRemainingTimeInMillis()` counts down to it. */
  readonly deadlineMs: number;
  readonly requestId: string;
  readonly functionName: string;
  readonly invokedFunctionArn: string;
}

/** Instance → parent. `ready` and `init-error` come once, before any invocation. */
export type InstanceMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: ReportedError }
  | { readonly type: 'result'; readonly id: number; readonly result?: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: ReportedError };
