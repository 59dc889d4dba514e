/**
 * `pipeline advise --from-table`: a sample read from a live table. Its key schema comes from
 * `DescribeTable`; a paginated `Scan` reads up to `--sample` items, and each becomes the write that
 * would have left it there: a put of its attributes (the version attribute as the message's
 * `version`), or, for a tombstone, a versioned delete of its key.
 */

import {
  type AttributeValue,
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DEFAULT_TABLE, type Message, validateMessage } from '../../contract/index.ts';
import { PipelineError } from '../../core/errors.ts';
import type { SampleRecord } from '../../pipeline/capacity/sample.ts';
import type { Route, RoutesConfig } from '../../pipeline/routing.ts';
import { writePathSettings } from '../../pipeline/settings.ts';
import { shardOwner } from '../../pipeline/sharding.ts';
import { InvalidSampleError, LiveFiguresUnavailableError, UsageError } from '../errors.ts';
import type { SampleInput } from './input.ts';

/** Bad items reported by number. */
const BAD_ITEM_SAMPLES = 5;

export interface TableScanOptions {
  readonly client: DynamoDBClient;
  /** Physical table name. */
  readonly tableName: string;
  /** Most items read. */
  readonly sample: number;
  /** Logical table the items are analysed as. @default the route in `routes` naming the table, else `items` */
  readonly logical?: string;
  /** The `--routes` routing, when given. */
  readonly routes?: RoutesConfig;
  /** Fail on the first item the analysis cannot take. @default false */
  readonly strict?: boolean;
  /** Items asked for per Scan page (DynamoDB also stops a page at 1 MB). @default 1000 */
  readonly pageItems?: number;
}

/** What the scan read, for the advice's `live.table`. */
export interface TableScanFigures {
  readonly tableName: string;
  readonly logical: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Items read. */
  readonly scanned: number;
  /** The scan stopped at `--sample` with a page still to read: the table may hold more. */
  readonly capped: boolean;
  /** Scan requests made. */
  readonly pages: number;
  /** DynamoDB's own item count (updated about every six hours), when it gives one. */
  readonly approximateItemCount?: number;
  readonly tombstones: number;
  readonly versioned: number;
}

export interface TableSample {
  readonly input: SampleInput;
  /** The routing to analyse with: `--routes`, with a route for the logical table made from the key schema when it lacks one. */
  readonly routes: RoutesConfig;
  readonly figures: TableScanFigures;
}

/**
 * Describes and scans the table.
 *
 * @throws LiveFiguresUnavailableError when DynamoDB fails (exit 1) or the table is missing, empty
 * or keyed in a way routes cannot describe (exit 2); UsageError when `--routes` sends the logical
 * table elsewhere.
 */
export async function scanTableSample(options: TableScanOptions): Promise<TableSample> {
  const { client, tableName } = options;
  const pageItems = options.pageItems ?? 1000;
  const source = `table ${tableName}`;
  const table = await describe(client, tableName);
  const derived = routeOf(table, tableName);
  const logical =
    options.logical ??
    Object.entries(options.routes ?? {}).find(([, route]) => route.tableName === tableName)?.[0] ??
    DEFAULT_TABLE;
  const route = options.routes?.[logical] ?? derived;
  if (route.tableName !== tableName) {
    throw new UsageError(
      `--from-table ${tableName} analysed as ${logical}: --routes sends ${logical} to ${route.tableName}; pass --logical <the route naming ${tableName}>`,
    );
  }
  const routes: RoutesConfig = { ...options.routes, [logical]: route };

  const records: SampleRecord[] = [];
  const badLineSamples: { line: number; reason: string }[] = [];
  let scanned = 0;
  let badLines = 0;
  let tombstones = 0;
  let versioned = 0;
  let capped = false;
  let pages = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await request(source, 'Scan', () =>
      client.send(
        new ScanCommand({
          TableName: tableName,
          Limit: Math.min(pageItems, options.sample - scanned),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      ),
    );
    pages++;
    for (const raw of page.Items ?? []) {
      scanned++;
      try {
        const record = tableItemRecord(unmarshall(raw), scanned, logical, route);
        records.push(record);
        if (record.kind === 'write' && record.message.op === 'delete') tombstones++;
        if (record.kind === 'write' && record.message.version !== undefined) versioned++;
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        const reason = error instanceof PipelineError ? `${error.code}: ${error.message}` : error.message;
        if (options.strict)
          throw new InvalidSampleError(source, `${source}: item ${scanned}: ${reason} (--strict)`, {
            cause: error,
          });
        badLines++;
        if (badLineSamples.length < BAD_ITEM_SAMPLES) badLineSamples.push({ line: scanned, reason });
      }
    }
    startKey = page.LastEvaluatedKey;
    capped = startKey !== undefined && scanned >= options.sample;
  } while (startKey !== undefined && scanned < options.sample);

  if (scanned === 0)
    throw new LiveFiguresUnavailableError(source, 'no-data', 'the table has no items to analyse');
  if (records.length === 0) {
    const first = badLineSamples[0]!;
    throw new InvalidSampleError(
      source,
      `none of the ${badLines} items of ${source} is usable (item ${first.line}: ${first.reason})`,
    );
  }
  const approximateItemCount = table.ItemCount;
  return {
    input: { name: source, lines: scanned, records, badLines, badLineSamples, eachItemOnce: true },
    routes,
    figures: {
      tableName,
      logical,
      partitionKey: route.partitionKey,
      ...(route.sortKey === undefined ? {} : { sortKey: route.sortKey }),
      scanned,
      capped,
      pages,
      ...(approximateItemCount === undefined ? {} : { approximateItemCount }),
      tombstones,
      versioned,
    },
  };
}

const { versionAttribute, deletedAttribute, ttlAttribute } = writePathSettings.table;

/**
 * The write that leaves `item` in the table: the pipeline's own attributes stripped, the version
 * attribute as the message's `version`, a tombstone (`deletedAttribute: true`) as a delete of its
 * key. On a sharded route, a shard's physical partition key (`tenant-0#3`) becomes the logical one
 * (`tenant-0`) the producer wrote, so the analysis shards it again as the router would. `line` is
 * the item's place in the scan.
 *
 * @throws PipelineError (from the contract) when the result is no valid message.
 */
export function tableItemRecord(
  item: Readonly<Record<string, unknown>>,
  line: number,
  logical: string,
  keys: Pick<Route, 'partitionKey' | 'sortKey' | 'shards'>,
): SampleRecord {
  const {
    [versionAttribute]: version,
    [deletedAttribute]: deleted,
    [ttlAttribute]: _expiresAt,
    ...stored
  } = item;
  const partition = stored[keys.partitionKey];
  const owner = keys.shards && typeof partition === 'string' ? shardOwner(partition, keys.shards) : undefined;
  const attributes = owner ? { ...stored, [keys.partitionKey]: owner.key } : stored;
  const table = logical === DEFAULT_TABLE ? {} : { table: logical };
  const versioned = typeof version === 'number' ? { version } : {};
  const keyNames = keys.sortKey === undefined ? [keys.partitionKey] : [keys.partitionKey, keys.sortKey];
  const candidate =
    deleted === true
      ? {
          op: 'delete',
          ...table,
          key: Object.fromEntries(keyNames.map((name) => [name, attributes[name]])),
          ...versioned,
        }
      : { op: 'put', ...table, item: attributes, ...versioned };
  const message: Message = validateMessage(candidate);
  return { line, kind: 'write', message, bodyBytes: Buffer.byteLength(JSON.stringify(message)) };
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription> {
  const { Table } = await request(`table ${tableName}`, 'DescribeTable', () =>
    client.send(new DescribeTableCommand({ TableName: tableName })),
  );
  if (!Table)
    throw new LiveFiguresUnavailableError(
      `table ${tableName}`,
      'request-failed',
      'DescribeTable returned no table',
    );
  return Table;
}

/** The route a table's key schema stands for (both keys of one type: routes have one `keyType`). */
function routeOf(table: TableDescription, tableName: string): Route {
  const source = `table ${tableName}`;
  const keyName = (type: 'HASH' | 'RANGE') => table.KeySchema?.find((k) => k.KeyType === type)?.AttributeName;
  const partitionKey = keyName('HASH');
  const sortKey = keyName('RANGE');
  if (partitionKey === undefined)
    throw new LiveFiguresUnavailableError(source, 'request-failed', 'DescribeTable gave no partition key');
  const types = [
    ...new Set(
      [partitionKey, sortKey]
        .filter((name) => name !== undefined)
        .map((name) => table.AttributeDefinitions?.find((d) => d.AttributeName === name)?.AttributeType),
    ),
  ];
  const keyType = types.length === 1 ? types[0] : undefined;
  if (keyType !== 'S' && keyType !== 'N') {
    throw new LiveFiguresUnavailableError(
      source,
      'no-data',
      `its keys are of type ${types.join(' and ')}; the pipeline routes tables whose keys are both strings (S) or both numbers (N)`,
    );
  }
  const indexes =
    (table.GlobalSecondaryIndexes?.length ?? 0) + (table.LocalSecondaryIndexes?.length ?? 0) > 0;
  return {
    tableName,
    partitionKey,
    ...(sortKey === undefined ? {} : { sortKey }),
    keyType,
    ops: ['put', 'delete'],
    ...(indexes ? { indexes } : {}),
  };
}

async function request<T>(source: string, operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (cause) {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    // A missing table is a wrong flag; anything else is DynamoDB's side (or the network).
    const reason = error.name === 'ResourceNotFoundException' ? 'no-data' : 'request-failed';
    throw new LiveFiguresUnavailableError(
      source,
      reason,
      `DynamoDB ${operation}: ${error.name}: ${error.message}${reason === 'no-data' ? ' (check --from-table and the region)' : ''}`,
      { cause },
    );
  }
}
