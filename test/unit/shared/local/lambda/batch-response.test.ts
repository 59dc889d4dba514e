import { describe, expect, it } from 'vitest';
import { batchOutcome } from '../../../../../shared/local/lambda/batch-response.ts';
import { sqsRecord } from '../../../../support/factories/sqs.ts';

describe('batchOutcome', () => {
  const records = [sqsRecord('a'), sqsRecord('b'), sqsRecord('c')];
  const ids = records.map((record) => record.messageId);

  it.each([
    ['no response', undefined],
    ['null', null],
    ['an empty batchItemFailures', { batchItemFailures: [] }],
    ['a null batchItemFailures', { batchItemFailures: null }],
    ['an object without batchItemFailures', {}],
  ])('counts %s as full success', (_, response) => {
    // Act
    const outcome = batchOutcome(response, records);
    // Assess
    expect(outcome).toEqual({ failed: new Set() });
  });

  it('fails only the records the response names', () => {
    // Act
    const outcome = batchOutcome({ batchItemFailures: [{ itemIdentifier: ids[1] }] }, records);
    // Assess
    expect(outcome).toEqual({ failed: new Set([ids[1]]) });
  });

  it.each([
    ['an unknown message id', { batchItemFailures: [{ itemIdentifier: 'nope' }] }, /"nope" names no record/],
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }, /"" names no record/],
    ['a missing identifier', { batchItemFailures: [{ id: ids[0] }] }, /undefined names no record/],
    ['a batchItemFailures that is no array', { batchItemFailures: 'all' }, /not an array/],
    ['a string response', 'ok', /is a string/],
  ])('fails the whole batch for %s', (_, response, problem) => {
    // Act
    const outcome = batchOutcome(response, records);
    // Assess
    expect(outcome.failed).toEqual(new Set(ids));
    expect(outcome.problem).toMatch(problem);
  });
});
