import { PipelineError } from '../../shared/core/errors.ts';

/**
 * A tick could not read or write the pointer of some snapshots (the others were ticked): the
 * invocation fails, so Lambda's Errors metric shows it; the next scheduled tick tries again.
 */
export class RolloutTickFailedError extends PipelineError {
  readonly code = 'ROLLOUT_TICK_FAILED';
  override readonly retryable = true;
  constructor(readonly failures: readonly { readonly name: string; readonly error: unknown }[]) {
    const detail = failures
      .map(({ name, error }) => `${name}: ${error instanceof Error ? error.message : String(error)}`)
      .join('; ');
    super(`the rollout tick failed for ${failures.length} snapshot(s): ${detail}`, {
      cause: failures[0]?.error,
    });
  }
}
