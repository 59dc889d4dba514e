/** Reading the pipeline's tables as a consumer would: strongly consistent point reads. */

import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** One client for the suite: endpoints, region and credentials from the environment. */
export const dynamodb = new DynamoDBClient({});

/** The item with this key as plain JSON, or `undefined`. */
export async function getItem(
  tableName: string,
  key: Readonly<Record<string, string>>,
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: tableName,
      Key: Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }])),
      ConsistentRead: true,
    }),
  );
  return Item === undefined ? undefined : unmarshall(Item);
}
