import { PipelineError } from '../../../core/errors.ts';

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
