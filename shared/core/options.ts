import { inspect } from 'node:util';
import { z } from 'zod';
import { PipelineError } from './errors.ts';

/**
 * An option given to a constructor or method is out of range or of the wrong kind. Programming
 * errors, raised where the options are resolved (once, in the constructor), never mid-flight.
 *
 * @example
 * // WriteBatcher option maxConcurrency: got 0; use an integer from 1 to 256
 * new WriteBatcher({ client, maxConcurrency: 0 });
 */
export class InvalidOptionError extends PipelineError {
  readonly code = 'INVALID_OPTION';
  constructor(
    /** Who takes the option: `WriteBatcher`, `SnapshotPublisher.prune`, … */
    readonly owner: string,
    /** Its path in the options object: `maxConcurrency`, `routes.orders.tableName`. */
    readonly option: string,
    /** What was received. */
    readonly value: unknown,
    /** What to use instead, in words: `an integer from 1 to 256`. */
    readonly rule: string,
    options?: ErrorOptions,
  ) {
    super(`${owner} option ${option}: got ${describeValue(value)}; use ${rule}`, options);
  }
}

/**
 * Resolves options once: runs `schema` (which applies the documented defaults) and returns its
 * output, or throws `InvalidOptionError` for the first issue, naming the option, the value received
 * and the rule. Schemas word their rules with the builders below; any other issue is put in words
 * from zod's issue.
 *
 * @example
 * const resolved = parseOptions('WriteBatcher', WriteBatcherOptionsSchema, options);
 */
export function parseOptions<S extends z.ZodType>(owner: string, schema: S, options: unknown): z.output<S> {
  const result = schema.safeParse(options, { error: ruleInWords });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const option = issue.path.map(String).join('.') || '(options)';
  throw new InvalidOptionError(owner, option, valueAt(options, issue.path), issue.message, {
    cause: result.error,
  });
}

/**
 * What a schema for the options type `T` must be: it takes `T` and has a field for every option of
 * `T` (a forgotten one would be stripped, silently). Check with `satisfies OptionsSchema<T>`.
 */
export type OptionsSchema<T> = z.ZodType<unknown, T> & { readonly shape: Record<keyof T, z.ZodType> };

/** An integer from `min` to `max` (safe integers only). */
export function integerOption(min: number, max?: number) {
  const rule = max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  const schema = z.int({ error: rule }).min(min, { error: rule });
  return max === undefined ? schema : schema.max(max, { error: rule });
}

/** A finite number from `min` to `max`. */
export function numberOption(min: number, max?: number) {
  const rule = max === undefined ? `a number ≥ ${min}` : `a number from ${min} to ${max}`;
  const schema = z.number({ error: rule }).min(min, { error: rule });
  return max === undefined ? schema : schema.max(max, { error: rule });
}

/** A finite number > 0 (a delay, a timeout, a lifetime). */
export function positiveNumberOption() {
  const rule = 'a number > 0';
  return z.number({ error: rule }).gt(0, { error: rule });
}

/** A non-empty string; `rule` says what it names, e.g. `a non-empty attribute name`. */
export function textOption(rule: string) {
  return z.string({ error: rule }).min(1, { error: rule });
}

/** A function (a callback, a clock, a validator). */
export function functionOption<F extends (...args: never[]) => unknown>(rule = 'a function') {
  return z.custom<F>((value) => typeof value === 'function', { error: rule });
}

/** An object the option only passes on (a client, a logger, a store); `rule` names what it must be. */
export function objectOption<T extends object>(rule: string) {
  return z.custom<T>((value) => typeof value === 'object' && value !== null, { error: rule });
}

/** Words for an issue whose schema gave none (zod's defaults are written for developers, not users). */
function ruleInWords(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `a value of type ${issue.expected}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const op = issue.code === 'too_small' ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<';
      if (issue.origin === 'string') return `a string of ${op} ${bound} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `${op} ${bound} entries`;
      return `a number ${op} ${bound}`;
    }
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `only known options (not ${issue.keys.join(', ')})`;
    default:
      return undefined;
  }
}

function valueAt(options: unknown, path: readonly PropertyKey[]): unknown {
  let value = options;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  const text = inspect(value, { depth: 1, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 80 });
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
