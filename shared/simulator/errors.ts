/** Errors of the pipeline simulator: one base, so callers can catch any of them. */

import { PipelineError } from '../core/errors.ts';

/** Base of every simulator error. */
export abstract class SimulatorError extends PipelineError {}

/** A simulation input is out of range (a rate of 0, a step longer than the run). */
export class InvalidSimulationError extends SimulatorError {
  readonly code = 'INVALID_SIMULATION';
  constructor(
    readonly option: string,
    readonly value: unknown,
    rule: string,
  ) {
    super(`simulation ${option}: got ${String(value)}; ${rule}`);
  }
}

/** The synthesized templates lack what the simulator reads (no batch-writer event source, a bad value). */
export class TemplateSettingsError extends SimulatorError {
  readonly code = 'TEMPLATE_SETTINGS';
  constructor(
    readonly where: string,
    detail: string,
  ) {
    super(`${where}: ${detail}`);
  }
}

/** The workload sample gives the simulator nothing to model (no valid write). */
export class InvalidWorkloadError extends SimulatorError {
  readonly code = 'INVALID_WORKLOAD';
}
