import { PipelineError } from '../../../core/errors.ts';

/** A condition a demo waited for did not hold before its deadline. */
export class DemoTimeoutError extends PipelineError {
  readonly code = 'DEMO_TIMEOUT';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** SQS refused messages a demo sent. */
export class DemoSendError extends PipelineError {
  readonly code = 'DEMO_SEND';
  constructor(
    readonly queueUrl: string,
    readonly failed: number,
    detail: string | undefined,
  ) {
    super(`SQS refused ${failed} message(s) for ${queueUrl}: ${detail ?? 'no reason given'}`);
  }
}
