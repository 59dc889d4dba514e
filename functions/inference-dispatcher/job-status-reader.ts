import { BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isTerminal, type JobStatus } from '../../shared/pipeline/inference/job-status.ts';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import type { JobStatusReader } from './ports.ts';

const MAX_KEYS_PER_REQUEST = 100;
const MAX_ROUNDS = 3;

/** Reads job statuses with consistent BatchGetItem (key and status only). */
export class DynamoDbJobStatusReader implements JobStatusReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async terminalJobIds(jobIds: readonly string[]): Promise<ReadonlySet<string>> {
    const key = inferenceSettings.jobsTable.partitionKey;
    const terminal = new Set<string>();
    for (let i = 0; i < jobIds.length; i += MAX_KEYS_PER_REQUEST) {
      let keys = jobIds.slice(i, i + MAX_KEYS_PER_REQUEST).map((id) => ({ [key]: { S: id } }));
      // Keys left unprocessed after a few rounds count as not terminal: the job is sent again,
      // which costs GPU time but never correctness.
      for (let round = 0; round < MAX_ROUNDS && keys.length > 0; round++) {
        const result = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: '#k, #s',
                ExpressionAttributeNames: { '#k': key, '#s': 'status' },
              },
            },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const status = item.status?.S as JobStatus | undefined;
          const id = item[key]?.S;
          if (id !== undefined && status !== undefined && isTerminal(status)) terminal.add(id);
        }
        keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
      }
    }
    return terminal;
  }
}
