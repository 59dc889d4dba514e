import type { IConstruct } from 'constructs';
import cdkJson from '../cdk.json' with { type: 'json' };
import { InvalidContextError } from './constructs/errors.ts';

/**
 * The context of `cdk.json` (the recommended feature flags), so that an `App` built by tests or by
 * a script synthesises exactly what `cdk synth` does. Without the flags, some L2 constructs fall
 * back to legacy resources (e.g. an Auto Scaling group gets a LaunchConfiguration).
 */
export const cdkContext: Readonly<Record<string, unknown>> = cdkJson.context;

/**
 * Reads a boolean context flag. The CLI passes `-c name=false` as the string `'false'`, so both
 * booleans and the strings `'true'`/`'false'` are accepted.
 *
 * @example contextFlag(app, 'gpu', true) // false after `cdk synth -c gpu=false`
 */
export function contextFlag(scope: IConstruct, name: string, fallback: boolean): boolean {
  const value: unknown = scope.node.tryGetContext(name);
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidContextError(name, value, 'true or false');
}

/**
 * Reads an optional string context value (`-c name=value`); an empty string counts as unset.
 *
 * @example contextString(app, 'otlpEndpoint') // 'http://collector:4318' after `-c otlpEndpoint=http://collector:4318`
 */
export function contextString(scope: IConstruct, name: string): string | undefined {
  const value: unknown = scope.node.tryGetContext(name);
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  throw new InvalidContextError(name, value, 'a string');
}
