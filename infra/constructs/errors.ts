import { PipelineError } from '../../shared/core/errors.ts';

/** A context value (`cdk.json` or `cdk synth -c name=value`) that the app cannot use. */
export class InvalidContextError extends PipelineError {
  readonly code = 'INVALID_CONTEXT';
  constructor(
    readonly key: string,
    readonly received: unknown,
    expected: string,
  ) {
    super(`context value ${key} is ${JSON.stringify(received)}; expected ${expected}`);
  }
}

/** A construct prop outside what the construct can deploy. */
export class InvalidPropError extends PipelineError {
  readonly code = 'INVALID_PROP';
  constructor(
    readonly construct: string,
    readonly prop: string,
    received: string,
    expected: string,
  ) {
    super(`${construct} ${prop} is ${received}; ${expected}`);
  }
}

/** Two construct props that each work alone but cannot be deployed together. */
export class ConflictingPropsError extends PipelineError {
  readonly code = 'CONFLICTING_PROPS';
  constructor(
    readonly construct: string,
    readonly props: readonly [string, string],
    change: string,
  ) {
    super(`${construct} ${props[0]} and ${props[1]} cannot be combined; ${change}`);
  }
}
