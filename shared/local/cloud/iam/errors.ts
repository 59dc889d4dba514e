import { PipelineError } from '../../../core/errors.ts';

/** Base of the local IAM enforcement's errors, so callers can catch any of them. */
export abstract class LocalIamError extends PipelineError {}

/**
 * A request the gateway cannot map to IAM actions. The gateway refuses it rather than let it through
 * unchecked: add the operation to `requests.ts`.
 */
export class UnsupportedOperationError extends LocalIamError {
  readonly code = 'IAM_UNSUPPORTED_OPERATION';
  constructor(
    readonly service: string,
    readonly operation: string,
  ) {
    super(
      `${service} operation '${operation}' is not mapped to IAM actions by the local IAM gateway ` +
        '(add it to shared/local/cloud/iam/requests.ts)',
    );
  }
}

/** A request whose body or headers do not say what it acts on (unreadable JSON, a missing `QueueUrl`). */
export class MalformedRequestError extends LocalIamError {
  readonly code = 'IAM_MALFORMED_REQUEST';
  constructor(
    readonly service: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${service} request: ${detail}`, options);
  }
}

/** A role the evaluator or the identities were not built with: its calls could be neither decided nor reported. */
export class UnknownRoleError extends LocalIamError {
  readonly code = 'IAM_UNKNOWN_ROLE';
  constructor(readonly roleArn: string) {
    super(
      `role ${roleArn} is not among the roles the local IAM was built with; pass it to IamEvaluator and LocalIdentities`,
    );
  }
}

/** Two roles share an ARN, or (vanishingly unlikely) their access key ids collide. */
export class IdentityConflictError extends LocalIamError {
  readonly code = 'IAM_IDENTITY_CONFLICT';
  constructor(
    readonly roleArn: string,
    readonly otherRoleArn: string,
  ) {
    super(`roles ${roleArn} and ${otherRoleArn} would share one identity; give each role its own ARN`);
  }
}
