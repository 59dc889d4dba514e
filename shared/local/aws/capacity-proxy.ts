import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { forwardRequest } from './http-forward.ts';

/** The write capacity the proxy enforces on one table. */
export interface TableCapacity {
  /** Write capacity units per second the table admits (its provisioned WCU). */
  readonly writeUnitsPerSecond: number;
  /** The partition key attribute, whose value's hash picks the partition. */
  readonly partitionKey: string;
  /** Partitions the rate is split over evenly, each a token bucket of its own. @default 1 */
  readonly partitions?: number;
}

export interface CapacityProxyOptions {
  /** The DynamoDB endpoint to forward to. */
  readonly target: string;
  /** Tables whose writes are metered, by name; writes to other tables pass unmetered. */
  readonly tables: Readonly<Record<string, TableCapacity>>;
  /**
   * Each partition's bucket holds this many seconds of its rate (DynamoDB keeps up to 300 s of unused
   * capacity as burst; a small bucket makes throttling come soon). Buckets start empty: every unit
   * admitted was earned while the proxy ran. @default 1
   */
  readonly burstSeconds?: number;
  /**
   * Added to every answer, throttled or not: the network and service time of a DynamoDB far from the
   * caller. DynamoDB Local on loopback answers in a few ms. @default 0
   */
  readonly latencyMs?: number;
  /** Milliseconds the buckets refill by; tests move a clock of their own. @default performance.now */
  readonly clock?: () => number;
  /** Region and account in the ARNs of throttling reasons. @default 'us-east-1', '123456789012' */
  readonly region?: string;
  readonly accountId?: string;
}

/** What the proxy has done to one metered table. */
export interface TableCapacityStats {
  /** Write requests that named the table (BatchWriteItem, PutItem, DeleteItem, UpdateItem, TransactWriteItems). */
  writeRequests: number;
  /** Of those, answered with a throttling error or with some of its writes left unprocessed. */
  throttledRequests: number;
  /** Writes left unprocessed or refused for lack of capacity. */
  throttledWrites: number;
  /** Write units of the writes forwarded and answered 200. */
  admittedWriteUnits: number;
  /** The most the buckets could have admitted so far: the table's rate × seconds since the proxy started. */
  budgetWriteUnits: number;
  /** Units in the table's buckets now: what it could admit at once. */
  availableWriteUnits: number;
}

export interface CapacityProxy {
  /** `http://127.0.0.1:<port>`: give it to the client as `endpoint`. */
  readonly url: string;
  /** Counters per metered table, as of now. */
  stats(): Record<string, TableCapacityStats>;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
type AttributeValue = Record<string, unknown>;
type WriteRequests = Record<string, Json[]>;

const JSON_TYPE = 'application/x-amz-json-1.0';
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
const THROTTLED_MESSAGE =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
/** DynamoDB's throttling reasons for writes to a table (the API's ThrottlingReason.reason). */
const REASONS = {
  /** One partition (key range) ran out while the table as a whole had units left: a hot key range. */
  keyRange: 'TableWriteKeyRangeThroughputExceeded',
  /** The table's provisioned write capacity ran out. */
  provisioned: 'TableWriteProvisionedThroughputExceeded',
} as const;

interface Bucket {
  tokens: number;
  readonly capacity: number;
  readonly ratePerMs: number;
}

interface Metered {
  readonly capacity: TableCapacity;
  readonly buckets: Bucket[];
  readonly stats: TableCapacityStats;
}

/** One write a request wants to make, and what it would cost where. */
interface Charge {
  readonly table: string;
  readonly metered?: Metered;
  readonly bucket?: Bucket;
  readonly units: number;
}

/**
 * A real HTTP proxy in front of DynamoDB (Local) that enforces write capacity as DynamoDB does:
 * each metered table's rate is split over partitions by a hash of the partition key, each partition
 * a token bucket; a write costs 1 unit per started KB of its item (at least 1), twice that in a
 * transaction. BatchWriteItem forwards the writes whose partitions have the units and returns the
 * rest in `UnprocessedItems`, or answers `ProvisionedThroughputExceededException` (with
 * `ThrottlingReasons`) when none has; single-item writes and transactions are refused whole when
 * any partition they touch lacks the units. Everything else passes through. DynamoDB Local does not
 * check signatures, so rewritten request bodies are fine; rewritten answers get a fresh
 * `x-amz-crc32`, which the SDK checks.
 *
 * @example
 * const proxy = await startCapacityProxy({
 *   target: endpoint,
 *   tables: { orders: { writeUnitsPerSecond: 1_500, partitions: 4, partitionKey: 'pk' } },
 * });
 * const client = new DynamoDBClient({ endpoint: proxy.url, maxAttempts: 1 });
 */
export async function startCapacityProxy(options: CapacityProxyOptions): Promise<CapacityProxy> {
  const target = new URL(options.target);
  const burstSeconds = options.burstSeconds ?? 1;
  const latencyMs = options.latencyMs ?? 0;
  const arnPrefix = `arn:aws:dynamodb:${options.region ?? 'us-east-1'}:${options.accountId ?? '123456789012'}:table/`;
  const clock = options.clock ?? (() => performance.now());
  const startedAt = clock();
  let refilledAt = startedAt;
  const metered = new Map<string, Metered>(
    Object.entries(options.tables).map(([name, capacity]) => {
      const partitions = capacity.partitions ?? 1;
      const rate = capacity.writeUnitsPerSecond / partitions;
      const buckets = Array.from({ length: partitions }, () => ({
        tokens: 0,
        capacity: Math.max(rate * burstSeconds, 1),
        ratePerMs: rate / 1000,
      }));
      const stats = {
        writeRequests: 0,
        throttledRequests: 0,
        throttledWrites: 0,
        admittedWriteUnits: 0,
        budgetWriteUnits: 0,
        availableWriteUnits: 0,
      };
      return [name, { capacity, buckets, stats }];
    }),
  );
  const refill = () => {
    const now = clock();
    for (const table of metered.values()) {
      for (const bucket of table.buckets) {
        bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (now - refilledAt) * bucket.ratePerMs);
      }
    }
    refilledAt = now;
  };
  /** What writing `item` (or deleting the item of `key`) costs; `factor` 2 in a transaction. */
  const chargeOf = (table: string, key: Json | undefined, item: Json | undefined, factor = 1): Charge => {
    const units = factor * Math.max(1, Math.ceil(itemBytes(item ?? {}) / 1024));
    const meter = metered.get(table);
    if (!meter) return { table, units };
    const pk = key?.[meter.capacity.partitionKey] as AttributeValue | undefined;
    const bucket = meter.buckets[partitionOf(pk ?? { NULL: true }, meter.buckets.length)];
    return { table, metered: meter, bucket, units };
  };
  /** Takes the units of `charges` if every one of their buckets has them; else takes none. */
  const takeAll = (charges: readonly Charge[]): boolean => {
    const need = new Map<Bucket, number>();
    for (const c of charges) if (c.bucket) need.set(c.bucket, (need.get(c.bucket) ?? 0) + c.units);
    for (const [bucket, units] of need) if (bucket.tokens < units) return false;
    for (const [bucket, units] of need) bucket.tokens -= units;
    return true;
  };
  const give = (charges: readonly Charge[]) => {
    for (const c of charges)
      if (c.bucket) c.bucket.tokens = Math.min(c.bucket.capacity, c.bucket.tokens + c.units);
  };
  const admitted = (charges: readonly Charge[]) => {
    for (const c of charges) if (c.metered) c.metered.stats.admittedWriteUnits += c.units;
  };
  /** DynamoDB's reason: a hot key range when the table still had the units in its other partitions. */
  const throttlingReasons = (charges: readonly Charge[]) => {
    const byTable = new Map<string, { metered: Metered; units: number }>();
    for (const c of charges) {
      if (!c.metered || (c.bucket && c.bucket.tokens >= c.units)) continue;
      const entry = byTable.get(c.table) ?? { metered: c.metered, units: 0 };
      entry.units += c.units;
      byTable.set(c.table, entry);
    }
    return [...byTable].map(([table, { metered: m, units }]) => ({
      reason:
        m.buckets.reduce((sum, bucket) => sum + bucket.tokens, 0) >= units
          ? REASONS.keyRange
          : REASONS.provisioned,
      resource: `${arnPrefix}${table}`,
    }));
  };
  const countRequest = (charges: readonly Charge[], throttled: readonly Charge[]) => {
    for (const table of new Set(charges.flatMap((c) => (c.metered ? [c.metered] : [])))) {
      table.stats.writeRequests++;
      const refused = throttled.filter((c) => c.metered === table).length;
      if (refused > 0) {
        table.stats.throttledRequests++;
        table.stats.throttledWrites += refused;
      }
    }
  };
  const agent = new Agent({ keepAlive: true });

  const forward = (req: IncomingMessage, body: Buffer) => forwardRequest(agent, target, req, body);

  /**
   * Forwards `body`. The charges count as admitted when DynamoDB did the work — written, or a failed
   * condition, which costs the units too — and are given back when it refused the request.
   */
  const forwardCharged = async (req: IncomingMessage, body: Buffer, charges: readonly Charge[]) => {
    const answer = await forward(req, body);
    if (answer.status === 200 || CHARGED_ERRORS.test(answer.body.toString('utf8', 0, 200))) admitted(charges);
    else give(charges);
    return answer;
  };

  const batchWrite = async (req: IncomingMessage, body: Buffer, input: Json): Promise<Answer> => {
    const requestItems = (input.RequestItems ?? {}) as WriteRequests;
    const kept: WriteRequests = {};
    const held: WriteRequests = {};
    const charges: Charge[] = [];
    const throttled: Charge[] = [];
    for (const [table, writes] of Object.entries(requestItems)) {
      for (const write of writes) {
        const put = write.PutRequest as { Item?: Json } | undefined;
        const del = write.DeleteRequest as { Key?: Json } | undefined;
        const charge = chargeOf(table, put?.Item ?? del?.Key, put?.Item ?? del?.Key);
        charges.push(charge);
        if (takeAll([charge])) {
          addTo(kept, table, write);
        } else {
          throttled.push(charge);
          addTo(held, table, write);
        }
      }
    }
    countRequest(charges, throttled);
    const admittedCharges = charges.filter((c) => !throttled.includes(c));
    if (throttled.length === 0) return forwardCharged(req, body, admittedCharges);
    if (admittedCharges.length === 0) return throttledAnswer(throttlingReasons(throttled));
    const answer = await forwardCharged(
      req,
      Buffer.from(JSON.stringify({ ...input, RequestItems: kept })),
      admittedCharges,
    );
    if (answer.status !== 200) return answer;
    const output = JSON.parse(answer.body.toString('utf8')) as Json;
    const unprocessed = (output.UnprocessedItems ?? {}) as WriteRequests;
    for (const [table, writes] of Object.entries(held))
      unprocessed[table] = [...(unprocessed[table] ?? []), ...writes];
    return jsonAnswer(200, { ...output, UnprocessedItems: unprocessed });
  };

  /** A single-item write or a transaction: refused whole when one of its partitions lacks the units. */
  const wholeWrite = async (
    req: IncomingMessage,
    body: Buffer,
    charges: readonly Charge[],
    transaction: boolean,
  ): Promise<Answer> => {
    const short = charges.filter((c) => c.bucket && c.bucket.tokens < c.units);
    if (short.length > 0 || !takeAll(charges)) {
      const refused = short.length > 0 ? short : charges.filter((c) => c.bucket);
      countRequest(charges, refused);
      if (!transaction) return throttledAnswer(throttlingReasons(refused));
      // DynamoDB cancels a throttled transaction, saying which of its actions were throttled.
      const reasons = charges.map((c) =>
        refused.includes(c) ? { Code: 'ThrottlingError', Message: THROTTLED_MESSAGE } : { Code: 'None' },
      );
      return jsonAnswer(400, {
        __type: `${ERROR_PREFIX}TransactionCanceledException`,
        message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        CancellationReasons: reasons,
      });
    }
    countRequest(charges, []);
    return forwardCharged(req, body, charges);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    refill();
    // A body that is not JSON goes on as it came: DynamoDB answers it with its own error.
    const input = WRITES.has(operation) ? parseJson(body) : undefined;
    let answer: Answer;
    if (input === undefined) {
      answer = await forward(req, body);
    } else {
      if (operation === 'BatchWriteItem') answer = await batchWrite(req, body, input);
      else if (operation === 'TransactWriteItems')
        answer = await wholeWrite(req, body, transactionCharges(input), true);
      else {
        const table = String(input.TableName ?? '');
        const item = (input.Item ?? input.Key) as Json | undefined;
        answer = await wholeWrite(req, body, [chargeOf(table, item, item)], false);
      }
    }
    if (latencyMs > 0) await sleep(latencyMs);
    res.writeHead(answer.status, answer.headers).end(answer.body);
  };

  const transactionCharges = (input: Json): Charge[] =>
    ((input.TransactItems ?? []) as Json[]).map((action) => {
      const [kind, detail] = Object.entries(action)[0] ?? ['', {}];
      const { TableName, Item, Key } = detail as { TableName?: string; Item?: Json; Key?: Json };
      return chargeOf(String(TableName ?? ''), Item ?? Key, kind === 'Put' ? Item : Key, 2);
    });

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // The upstream went away: answer like an unreachable service would.
      if (!res.headersSent) {
        const answer = jsonAnswer(502, { message: `capacity proxy: ${String(error)}` });
        res.writeHead(answer.status, answer.headers).end(answer.body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => {
      refill();
      const seconds = (clock() - startedAt) / 1000;
      return Object.fromEntries(
        [...metered].map(([name, table]) => [
          name,
          {
            ...table.stats,
            budgetWriteUnits: table.capacity.writeUnitsPerSecond * seconds,
            availableWriteUnits: table.buckets.reduce((sum, bucket) => sum + bucket.tokens, 0),
          },
        ]),
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/** Errors after which DynamoDB still charges the write units: the conditions were evaluated. */
const CHARGED_ERRORS = /#(ConditionalCheckFailedException|TransactionCanceledException)"/;

/** The partition (0 … partitions − 1) a marshalled partition key value hashes to. */
export function partitionOf(partitionKey: Readonly<Record<string, unknown>>, partitions: number): number {
  return crc32(JSON.stringify(partitionKey)) % partitions;
}

const WRITES = new Set(['BatchWriteItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'TransactWriteItems']);

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders | Record<string, string>;
  readonly body: Buffer;
}

function throttledAnswer(reasons: ReadonlyArray<{ reason: string; resource: string }>): Answer {
  return jsonAnswer(400, {
    __type: `${ERROR_PREFIX}ProvisionedThroughputExceededException`,
    message: THROTTLED_MESSAGE,
    ThrottlingReasons: reasons,
  });
}

function jsonAnswer(status: number, value: unknown): Answer {
  const body = Buffer.from(JSON.stringify(value));
  return {
    status,
    headers: {
      'content-type': JSON_TYPE,
      'content-length': String(body.length),
      'x-amzn-requestid': randomUUID(),
      'x-amz-crc32': String(crc32(body)),
    },
    body,
  };
}

function addTo(requests: WriteRequests, table: string, write: Json): void {
  const list = requests[table];
  if (list) list.push(write);
  else requests[table] = [write];
}

function parseJson(body: Buffer): Json | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** DynamoDB's size of a marshalled item: attribute names plus values, in bytes. */
function itemBytes(item: Json): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item))
    bytes += Buffer.byteLength(name) + valueBytes(value as AttributeValue);
  return bytes;
}

function valueBytes(value: AttributeValue): number {
  const [type, v] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(v));
    case 'N':
      return numberBytes(String(v));
    case 'B':
      return Buffer.byteLength(String(v), 'base64');
    case 'SS':
      return (v as string[]).reduce((sum, s) => sum + Buffer.byteLength(s), 0);
    case 'NS':
      return (v as string[]).reduce((sum, n) => sum + numberBytes(n), 0);
    case 'BS':
      return (v as string[]).reduce((sum, b) => sum + Buffer.byteLength(b, 'base64'), 0);
    case 'L':
      return 3 + (v as AttributeValue[]).reduce((sum, e) => sum + 1 + valueBytes(e), 0);
    case 'M':
      return (
        3 +
        Object.entries(v as Record<string, AttributeValue>).reduce(
          (sum, [name, e]) => sum + Buffer.byteLength(name) + 1 + valueBytes(e),
          0,
        )
      );
    default:
      return 1; // BOOL, NULL
  }
}

/** One byte per two significant digits, plus one. */
function numberBytes(n: string): number {
  const digits = n
    .replace(/[eE].*$/, '')
    .replace(/[^0-9]/g, '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(digits.length / 2) + 1;
}
