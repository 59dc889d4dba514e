import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PipelineError } from '../../../../shared/core/errors.ts';
import {
  functionOption,
  InvalidOptionError,
  integerOption,
  numberOption,
  objectOption,
  parseOptions,
  positiveNumberOption,
  textOption,
} from '../../../../shared/core/options.ts';

const Schema = z.object({
  client: objectOption<{ send(): void }>('a client'),
  maxConcurrency: integerOption(1, 256).default(8),
  minimum: integerOption(0).optional(),
  delayMs: positiveNumberOption().default(25),
  windowMs: numberOption(0, 300).optional(),
  attribute: textOption('a non-empty attribute name').default('_version'),
  clock: functionOption<() => number>().default(() => () => 42),
  compression: z.enum(['br', 'gzip']).default('br'),
  nested: z.object({ tableName: z.string().min(1) }).optional(),
});

/** The InvalidOptionError that parsing `options` throws. */
function refusal(options: unknown): InvalidOptionError {
  try {
    parseOptions('Widget', Schema, options);
  } catch (error) {
    if (error instanceof InvalidOptionError) return error;
    throw error;
  }
  throw new Error('parseOptions accepted the options');
}

describe('parseOptions', () => {
  it('applies the documented defaults once and keeps what was given', () => {
    // Prepare
    const client = { send() {} };
    // Act
    const resolved = parseOptions('Widget', Schema, { client, maxConcurrency: 3 });
    // Assess
    expect(resolved).toMatchObject({
      maxConcurrency: 3,
      delayMs: 25,
      attribute: '_version',
      compression: 'br',
    });
    expect(resolved.client).toBe(client);
    expect(resolved.clock()).toBe(42);
  });

  it('treats an explicit undefined like an absent option, never an explicit 0', () => {
    // Act
    const resolved = parseOptions('Widget', Schema, { client: {}, maxConcurrency: undefined, minimum: 0 });
    // Assess
    expect(resolved).toMatchObject({ maxConcurrency: 8, minimum: 0 });
  });

  it('throws InvalidOptionError naming owner, option, value and rule', () => {
    // Act
    const error = refusal({ client: {}, maxConcurrency: 0 });
    // Assess
    expect(error).toBeInstanceOf(PipelineError);
    expect(error).toMatchObject({
      code: 'INVALID_OPTION',
      name: 'InvalidOptionError',
      owner: 'Widget',
      option: 'maxConcurrency',
      value: 0,
      rule: 'an integer from 1 to 256',
      retryable: false,
    });
    expect(error.message).toBe('Widget option maxConcurrency: got 0; use an integer from 1 to 256');
    expect(error.cause).toBeInstanceOf(z.ZodError);
  });

  it.each([
    [{ maxConcurrency: 2.5 }, 'maxConcurrency: got 2.5; use an integer from 1 to 256'],
    [{ maxConcurrency: '8' }, "maxConcurrency: got '8'; use an integer from 1 to 256"],
    [{ minimum: -1 }, 'minimum: got -1; use an integer ≥ 0'],
    [{ delayMs: 0 }, 'delayMs: got 0; use a number > 0'],
    [{ delayMs: Number.NaN }, 'delayMs: got NaN; use a number > 0'],
    [{ windowMs: 301 }, 'windowMs: got 301; use a number from 0 to 300'],
    [{ attribute: '' }, "attribute: got ''; use a non-empty attribute name"],
    [{ clock: 5 }, 'clock: got 5; use a function'],
    [{ compression: 'zip' }, `compression: got 'zip'; use one of "br", "gzip"`],
    [{ nested: { tableName: '' } }, "nested.tableName: got ''; use a string of ≥ 1 characters"],
  ])('words the rule of %o', (options, message) => {
    // Act
    const error = refusal({ client: {}, ...options });
    // Assess
    expect(error.message).toBe(`Widget option ${message}`);
  });

  it('reports a missing required option as received undefined', () => {
    // Act
    const error = refusal({});
    // Assess
    expect(error).toMatchObject({ option: 'client', value: undefined, rule: 'a client' });
    expect(error.message).toBe('Widget option client: got undefined; use a client');
  });

  it('names the first issue only, however many there are', () => {
    // Act
    const error = refusal({ client: {}, maxConcurrency: 0, delayMs: 0 });
    // Assess
    expect(error.option).toBe('maxConcurrency');
  });
});
