import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SnapshotPublisher, type SnapshotPublisherOptions } from '../../../shared/snapshots/publisher.ts';
import { SnapshotReader, type SnapshotReaderOptions } from '../../../shared/snapshots/reader.ts';
import { DynamoDbSnapshotStore } from '../../../shared/snapshots/store.ts';
import { createSnapshotTable } from '../../../shared/snapshots/table.ts';

/** A uniquely named snapshots table on the embedded DynamoDB, with a store, publishers and readers over it. */
export interface SnapshotFixture {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly store: DynamoDbSnapshotStore;
  readonly publisher: SnapshotPublisher;
  publisherWith(options?: Omit<SnapshotPublisherOptions, 'store'>): SnapshotPublisher;
  reader<T = unknown>(options?: Omit<SnapshotReaderOptions<T>, 'store'>): SnapshotReader<T>;
  dispose(): Promise<void>;
}

export async function snapshotFixture(): Promise<SnapshotFixture> {
  const client = new DynamoDBClient({});
  const tableName = `snapshots-${randomUUID().slice(0, 8)}`;
  await createSnapshotTable(client, tableName);
  const store = new DynamoDbSnapshotStore({ client, tableName });
  const readers: SnapshotReader<unknown>[] = [];
  return {
    client,
    tableName,
    store,
    publisher: new SnapshotPublisher({ store }),
    publisherWith: (options = {}) => new SnapshotPublisher({ ...options, store }),
    reader: <T>(options: Omit<SnapshotReaderOptions<T>, 'store'> = {}) => {
      const reader = new SnapshotReader<T>({ name: 'app', ...options, store });
      readers.push(reader as SnapshotReader<unknown>);
      return reader;
    },
    dispose: async () => {
      for (const reader of readers) reader.stop();
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}
