import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../../shared/core/options.ts';
import { DynamoDbSnapshotStore } from '../../../../shared/snapshots/store.ts';
import { InMemoryDynamoDb } from '../../../support/fakes/in-memory-dynamodb.ts';

describe('DynamoDbSnapshotStore options', () => {
  it.each([
    [{ tableName: '' }, 'tableName', '', 'a table name'],
    [{ readConcurrency: 0 }, 'readConcurrency', 0, 'an integer from 1 to 256'],
    [{ writeTimeoutMs: 0 }, 'writeTimeoutMs', 0, 'a number > 0'],
  ])(
    'refuses %o with an InvalidOptionError naming the option and the rule',
    (options, option, value, rule) => {
      // Prepare
      const { client } = new InMemoryDynamoDb();
      // Act
      const create = () => new DynamoDbSnapshotStore({ client, tableName: 'snapshots', ...options });
      // Assess
      expect(create).toThrow(InvalidOptionError);
      expect(create).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTION',
          owner: 'DynamoDbSnapshotStore',
          option,
          value,
          rule,
        }),
      );
    },
  );
});
