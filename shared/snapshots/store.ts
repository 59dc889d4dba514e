import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  type Put,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import pLimit from 'p-limit';
import { z } from 'zod';
import {
  integerOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
  positiveNumberOption,
  textOption,
} from '../core/options.ts';
import type { TableTarget, WriteRequest } from '../write-batcher/index.ts';
import { WriteBatcher } from '../write-batcher/index.ts';
import {
  CorruptSnapshotError,
  MissingChunkError,
  SnapshotConflictError,
  SnapshotVersionInUseError,
  SnapshotVersionNotFoundError,
  SnapshotWriteError,
} from './errors.ts';
import { snapshotSettings } from './settings.ts';
import { ManifestItemSchema, PointerItemSchema, parseItem, SchemaItemSchema } from './store-items.ts';
import type { Deadline, DocumentSchemaRecord, Manifest, Pointer, SnapshotStore } from './types.ts';

const { partitionKey: PK, sortKey: SK } = snapshotSettings.table;
const POINTER_SK = 'pointer';
const SEQUENCE_SK = 'seq';
const SCHEMA_SK = 'schema';
const MANIFEST_PREFIX = 'm#';
const CHUNK_PREFIX = 'c#';
/** Binary attribute that holds a chunk's bytes. */
const CHUNK_ATTRIBUTE = 'b';

/** Zero-padded, so versions and chunks sort numerically under `begins_with` queries. */
export const manifestSortKey = (version: number): string => `${MANIFEST_PREFIX}${pad(version, 12)}`;
export const chunkSortKey = (version: number, index: number): string =>
  `${CHUNK_PREFIX}${pad(version, 12)}#${pad(index, 5)}`;
export const POINTER_SORT_KEY = POINTER_SK;

export interface DynamoDbSnapshotStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Chunk reads in flight at once while loading a version. @default 8 */
  readonly readConcurrency?: number;
  /** Writes chunks (and deletes them on prune). @default a WriteBatcher over `client`, 8 requests at once */
  readonly batcher?: WriteBatcher;
  /** How long chunk writes may keep retrying when the caller gives no deadline. @default 60_000 */
  readonly writeTimeoutMs?: number;
}

/** `DynamoDbSnapshotStoreOptions` checked, with the defaults documented there applied (the batcher's needs `client`). */
export const DynamoDbSnapshotStoreOptionsSchema = z.object({
  client: objectOption<DynamoDBClient>('a DynamoDBClient'),
  tableName: textOption('a table name'),
  readConcurrency: integerOption(1, 256).default(8),
  batcher: objectOption<WriteBatcher>('a WriteBatcher').optional(),
  writeTimeoutMs: positiveNumberOption().default(60_000),
}) satisfies OptionsSchema<DynamoDbSnapshotStoreOptions>;

/**
 * The snapshot store on one DynamoDB table (`pk` = snapshot name, `sk` = item kind):
 * `pointer` (which versions to serve), `seq` (last allocated version), `m#<version>` (manifest),
 * `c#<version>#<index>` (chunks of compressed content, ≤ 350 KB each) and `schema` (the JSON
 * Schema documents must satisfy, when one is set).
 *
 * @example
 * const store = new DynamoDbSnapshotStore({ client: new DynamoDBClient({}), tableName: 'snapshots' });
 */
export class DynamoDbSnapshotStore implements SnapshotStore {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly readLimit: ReturnType<typeof pLimit>;
  private readonly batcher: WriteBatcher;
  private readonly target: TableTarget;
  private readonly writeTimeoutMs: number;

  /** @throws InvalidOptionError when an option is out of range (the message names it and the rule). */
  constructor(options: DynamoDbSnapshotStoreOptions) {
    const resolved = parseOptions('DynamoDbSnapshotStore', DynamoDbSnapshotStoreOptionsSchema, options);
    this.client = resolved.client;
    this.tableName = resolved.tableName;
    this.readLimit = pLimit(resolved.readConcurrency);
    this.batcher = resolved.batcher ?? new WriteBatcher({ client: resolved.client, maxConcurrency: 8 });
    this.target = { tableName: resolved.tableName, partitionKey: PK, sortKey: SK };
    this.writeTimeoutMs = resolved.writeTimeoutMs;
  }

  async getPointer(name: string): Promise<Pointer | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(name, POINTER_SK), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : parseItem(PointerItemSchema, Item, name, 'pointer');
  }

  async allocateVersion(name: string): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key(name, SEQUENCE_SK),
        UpdateExpression: 'ADD lastVersion :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const version = Number(Attributes?.lastVersion?.N);
    if (!Number.isSafeInteger(version))
      throw new CorruptSnapshotError(name, 'the version sequence is not a number');
    return version;
  }

  async putVersion(
    manifest: Manifest,
    chunks: readonly Uint8Array[],
    options: { deadline?: Deadline } = {},
  ): Promise<void> {
    const { name, version } = manifest;
    const requests: WriteRequest[] = chunks.map((bytes, index) => ({
      op: 'put',
      target: this.target,
      item: { [PK]: name, [SK]: chunkSortKey(version, index), [CHUNK_ATTRIBUTE]: bytes },
    }));
    await this.writeAll(requests, name, version, options.deadline);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { [PK]: name, [SK]: manifestSortKey(version), ...manifest },
            { removeUndefinedValues: true },
          ),
          // Versions are immutable: never overwrite a manifest.
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': SK },
        }),
      );
    } catch (cause) {
      throw new SnapshotWriteError(name, version, 'the manifest was not written', { cause });
    }
  }

  async getManifest(name: string, version: number): Promise<Manifest | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(name, manifestSortKey(version)),
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : parseItem(ManifestItemSchema, Item, name, `manifest ${version}`);
  }

  async getChunks(manifest: Manifest): Promise<Uint8Array[]> {
    const { name, version, chunkCount } = manifest;
    return Promise.all(
      Array.from({ length: chunkCount }, (_, index) =>
        this.readLimit(async () => {
          const { Item } = await this.client.send(
            new GetItemCommand({
              TableName: this.tableName,
              Key: key(name, chunkSortKey(version, index)),
              ConsistentRead: true,
              ProjectionExpression: CHUNK_ATTRIBUTE,
            }),
          );
          const bytes = Item?.[CHUNK_ATTRIBUTE]?.B;
          if (bytes === undefined) throw new MissingChunkError(name, version, index, chunkCount);
          return bytes;
        }),
      ),
    );
  }

  async listManifests(name: string): Promise<Manifest[]> {
    const manifests: Manifest[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :name AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':name': { S: name }, ':prefix': { S: MANIFEST_PREFIX } },
          ScanIndexForward: false,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? [])
        manifests.push(parseItem(ManifestItemSchema, item, name, 'manifest'));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return manifests;
  }

  async swapPointer(next: Pointer, expectedGeneration: number | undefined): Promise<void> {
    const versions = [next.stable, ...(next.candidate ? [next.candidate.version] : [])];
    const item = marshall({ [PK]: next.name, [SK]: POINTER_SK, ...next }, { removeUndefinedValues: true });
    const guard: Pick<Put, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> =
      expectedGeneration === undefined
        ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
        : {
            ConditionExpression: '#generation = :expected',
            ExpressionAttributeNames: { '#generation': 'generation' },
            ExpressionAttributeValues: { ':expected': { N: String(expectedGeneration) } },
          };
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: item,
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                ...guard,
              },
            },
            // The flip and the versions' existence are checked together, so a concurrent prune can
            // never leave the pointer naming a deleted version.
            ...versions.map((version) => ({
              ConditionCheck: {
                TableName: this.tableName,
                Key: key(next.name, manifestSortKey(version)),
                ConditionExpression: 'attribute_exists(#sk)',
                ExpressionAttributeNames: { '#sk': SK },
              },
            })),
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const pointerReason = reasons[0];
      if (
        pointerReason?.Code === 'ConditionalCheckFailed' ||
        reasons.some((r) => r.Code === 'TransactionConflict')
      ) {
        const actual = pointerReason?.Item?.generation?.N;
        throw new SnapshotConflictError(
          next.name,
          expectedGeneration,
          actual === undefined ? undefined : Number(actual),
          { cause: error },
        );
      }
      const missing = reasons.findIndex((r, i) => i > 0 && r.Code === 'ConditionalCheckFailed');
      if (missing > 0)
        throw new SnapshotVersionNotFoundError(next.name, versions[missing - 1]!, { cause: error });
      throw error;
    }
  }

  async getSchema(name: string): Promise<DocumentSchemaRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(name, SCHEMA_SK), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : parseItem(SchemaItemSchema, Item, name, 'schema');
  }

  async putSchema(record: DocumentSchemaRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ [PK]: record.name, [SK]: SCHEMA_SK, ...record }),
      }),
    );
  }

  async deleteSchema(name: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key(name, SCHEMA_SK),
          ConditionExpression: 'attribute_exists(#sk)',
          ExpressionAttributeNames: { '#sk': SK },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async deleteVersion(manifest: Manifest): Promise<void> {
    const { name, version, chunkCount } = manifest;
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: key(name, POINTER_SK),
                ConditionExpression:
                  'attribute_not_exists(#pk) OR (stable <> :v AND (attribute_not_exists(candidate) OR candidate.version <> :v))',
                ExpressionAttributeNames: { '#pk': PK },
                ExpressionAttributeValues: { ':v': { N: String(version) } },
              },
            },
            { Delete: { TableName: this.tableName, Key: key(name, manifestSortKey(version)) } },
          ],
        }),
      );
    } catch (error) {
      const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') {
        throw new SnapshotVersionInUseError(name, version, { cause: error });
      }
      throw error;
    }
    const requests: WriteRequest[] = Array.from({ length: chunkCount }, (_, index) => ({
      op: 'delete',
      target: this.target,
      key: { [PK]: name, [SK]: chunkSortKey(version, index) },
    }));
    await this.writeAll(requests, name, version, undefined);
  }

  private async writeAll(
    requests: readonly WriteRequest[],
    name: string,
    version: number,
    deadline: Deadline | undefined,
  ): Promise<void> {
    if (requests.length === 0) return;
    const { outcomes } = await this.batcher.writeAll(requests, {
      deadline: deadline ?? { at: Date.now() + this.writeTimeoutMs },
    });
    const failed = outcomes.findIndex((o) => o.status === 'retryable' || o.status === 'rejected');
    if (failed === -1) return;
    const outcome = outcomes[failed]!;
    const detail =
      outcome.status === 'retryable'
        ? `chunk ${failed}: ${outcome.detail}`
        : outcome.status === 'rejected'
          ? `chunk ${failed}: ${outcome.error.message}`
          : `chunk ${failed}`;
    throw new SnapshotWriteError(name, version, detail, {
      cause: outcome.status === 'rejected' ? outcome.error : undefined,
    });
  }
}

function key(name: string, sortKey: string): Record<string, AttributeValue> {
  return { [PK]: { S: name }, [SK]: { S: sortKey } };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
