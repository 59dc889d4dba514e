import { PipelineError } from '../../core/errors.ts';

/** The cloud assembly (`cdk.out`) is missing, unreadable, or `cdk synth` failed. */
export class CloudAssemblyError extends PipelineError {
  readonly code = 'CLOUD_ASSEMBLY';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${detail}`, options);
  }
}

/** A template value the local cloud cannot resolve (an unknown intrinsic, resource or output). */
export class TemplateResolutionError extends PipelineError {
  readonly code = 'TEMPLATE_RESOLUTION';
  constructor(
    readonly stackName: string,
    /** Where in the template, e.g. `Resources.Fn.Properties.Environment`. */
    readonly where: string,
    detail: string,
  ) {
    super(`${stackName} ${where}: ${detail}`);
  }
}

/** A resource exists locally with a shape the template cannot be applied to (e.g. another key schema). */
export class LocalDeployError extends PipelineError {
  readonly code = 'LOCAL_DEPLOY';
  constructor(
    readonly resource: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${resource}: ${detail}`, options);
  }
}
