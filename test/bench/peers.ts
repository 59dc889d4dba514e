/**
 * The batch-write paths users would pick instead of the WriteBatcher, written as their docs show,
 * each consuming the same Lambda batches (SQS records of contract-v1 puts) into one table:
 * ElectroDB batch put, DynamoDB-Toolbox v2 `BatchWriteCommand`, a plain lib-dynamodb
 * `BatchWriteCommand` loop with a typical UnprocessedItems retry, and Powertools `BatchProcessor`
 * with one PutItem per record. Benchmark baselines only (devDependencies).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand as DocBatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { Entity as TableToolboxEntity } from 'dynamodb-toolbox/entity';
import { BatchPutRequest } from 'dynamodb-toolbox/entity/actions/batchPut';
import { item as schemaItem } from 'dynamodb-toolbox/schema/item';
import { number } from 'dynamodb-toolbox/schema/number';
import { string } from 'dynamodb-toolbox/schema/string';
import { Table as ToolboxTable } from 'dynamodb-toolbox/table';
import {
  execute,
  BatchWriteCommand as ToolboxBatchWriteCommand,
} from 'dynamodb-toolbox/table/actions/batchWrite';
import { Entity as ElectroEntity } from 'electrodb';
import pLimit from 'p-limit';

/** Writes one Lambda batch of records into a table; resolves once every item is written. */
export type BatchWritePath = (records: readonly SQSRecord[]) => Promise<unknown>;

interface BenchItem {
  readonly pk: string;
  readonly sk: string;
  readonly seq: number;
  readonly data: string;
}

const itemOf = (record: SQSRecord) => (JSON.parse(record.body) as { item: BenchItem }).item;

/** The retry a hand-written loop typically has: resend the leftovers after a short, doubling pause. */
async function untilProcessed<T>(send: (pending: T) => Promise<T | undefined>, first: T): Promise<void> {
  let pending: T | undefined = first;
  for (let attempt = 0; pending !== undefined; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
    pending = await send(pending);
  }
}

function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

/** A plain `@aws-sdk/lib-dynamodb` BatchWriteCommand loop: chunks of 25, `concurrency` at a time. */
export function plainDocumentClientLoop(
  client: DynamoDBClient,
  tableName: string,
  concurrency: number,
): BatchWritePath {
  const doc = DynamoDBDocumentClient.from(client);
  const limit = pLimit(concurrency);
  return (records) =>
    Promise.all(
      chunks(records.map(itemOf), 25).map((chunk) =>
        limit(() =>
          untilProcessed(
            async (requests) => {
              const out = await doc.send(
                new DocBatchWriteCommand({ RequestItems: { [tableName]: requests } }),
              );
              const left = out.UnprocessedItems?.[tableName];
              return left && left.length > 0 ? (left as typeof requests) : undefined;
            },
            chunk.map((Item) => ({ PutRequest: { Item } })),
          ),
        ),
      ),
    );
}

/** ElectroDB: an entity over the table and `entity.put([...]).go({ concurrency })`, unprocessed sent again. */
export function electroDbBatchPut(
  client: DynamoDBClient,
  tableName: string,
  concurrency: number,
): BatchWritePath {
  const entity = new ElectroEntity(
    {
      model: { entity: 'bench', version: '1', service: 'pipeline' },
      attributes: {
        pk: { type: 'string', required: true },
        sk: { type: 'string', required: true },
        seq: { type: 'number' },
        data: { type: 'string' },
      },
      indexes: {
        primary: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: ElectroDB's key template syntax
          pk: { field: 'pk', composite: ['pk'], template: '${pk}' },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: ElectroDB's key template syntax
          sk: { field: 'sk', composite: ['sk'], template: '${sk}' },
        },
      },
    },
    { table: tableName, client: DynamoDBDocumentClient.from(client) },
  );
  return (records) =>
    untilProcessed(async (items) => {
      const { unprocessed } = await entity.put(items).go({ concurrency });
      return unprocessed.length > 0 ? (unprocessed as BenchItem[]) : undefined;
    }, records.map(itemOf));
}

/** DynamoDB-Toolbox v2: `BatchPutRequest`s in `BatchWriteCommand`s of 25, `execute` retrying leftovers. */
export function dynamoDbToolboxBatchWrite(
  client: DynamoDBClient,
  tableName: string,
  concurrency: number,
): BatchWritePath {
  const documentClient = DynamoDBDocumentClient.from(client);
  const table = new ToolboxTable({
    name: tableName,
    partitionKey: { name: 'pk', type: 'string' },
    sortKey: { name: 'sk', type: 'string' },
    documentClient,
  });
  const entity = new TableToolboxEntity({
    name: 'bench',
    table,
    schema: schemaItem({
      pk: string().key(),
      sk: string().key(),
      seq: number(),
      data: string(),
    }),
    // Plain items, as the other paths write them: no entity attribute or timestamps.
    entityAttribute: false,
    timestamps: false,
  });
  const limit = pLimit(concurrency);
  return (records) =>
    Promise.all(
      chunks(records.map(itemOf), 25).map((chunk) =>
        limit(() =>
          execute(
            { maxAttempts: 10 },
            table
              .build(ToolboxBatchWriteCommand)
              .requests(...chunk.map((item) => entity.build(BatchPutRequest).item(item))),
          ),
        ),
      ),
    );
}

/** Powertools `BatchProcessor` with one PutItem per record, as its SQS partial-batch example does. */
export function powertoolsBatchProcessorPutItem(client: DynamoDBClient, tableName: string): BatchWritePath {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord) => {
    await client.send(new PutItemCommand({ TableName: tableName, Item: marshall(itemOf(record)) }));
  };
  const context = {} as Context;
  return async (records) => {
    const response = await processPartialResponse(
      { Records: [...records] } as SQSEvent,
      recordHandler,
      processor,
      {
        context,
      },
    );
    if (response.batchItemFailures.length > 0)
      throw new Error(`${response.batchItemFailures.length} records failed`);
  };
}
