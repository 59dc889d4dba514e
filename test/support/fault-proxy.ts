import { randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';

import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { mulberry32 } from '../../shared/core/random.ts';
import { forwardRequest } from '../../shared/local/aws/http-forward.ts';

/**
 * A fault to inject. `operations` narrows a rule to some DynamoDB operations (the part of the
 * `X-Amz-Target` header after the dot, e.g. `BatchWriteItem`); unset, it applies to every one.
 */
/**
 * When a request-level rule fires: on a seeded random draw with probability `rate`, or on every
 * `every`-th request it is considered for (counted per rule from `setRules`), which makes a fault
 * happen a known number of times whatever the timing.
 */
export type FaultTrigger =
  | { readonly rate: number; readonly every?: never }
  | { readonly every: number; readonly rate?: never };

export type FaultRule =
  /** BatchWriteItem only: hold back `fraction` of each table's writes and return them as UnprocessedItems. */
  | { readonly kind: 'unprocessed'; readonly fraction: number }
  /** Answer 400 with a throttling error instead of forwarding. */
  | (FaultTrigger & {
      readonly kind: 'throttle';
      /** @default 'ProvisionedThroughputExceededException' */
      readonly error?: 'ProvisionedThroughputExceededException' | 'ThrottlingException';
      readonly operations?: readonly string[];
    })
  /** Answer 500 InternalServerError instead of forwarding. */
  | (FaultTrigger & { readonly kind: 'internal-error'; readonly operations?: readonly string[] })
  /** Destroy the client's socket without an answer (the SDK sees a connection reset). */
  | (FaultTrigger & { readonly kind: 'reset'; readonly operations?: readonly string[] })
  /**
   * Answer 400 AccessDeniedException, as IAM does, to every request that names one of `tables`
   * (a BatchWriteItem naming it among others included: IAM refuses the whole request).
   */
  | { readonly kind: 'access-denied'; readonly tables: readonly string[] };

/** What the proxy has done so far. */
export interface FaultStats {
  requests: number;
  forwarded: number;
  /** Write requests held back and returned as UnprocessedItems. */
  unprocessedItems: number;
  throttled: number;
  internalErrors: number;
  resets: number;
  /** Requests answered with AccessDeniedException. */
  accessDenied: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the client as `endpoint`. */
  readonly url: string;
  readonly stats: Readonly<FaultStats>;
  /** Replaces the rules for the requests that follow. */
  setRules(rules: readonly FaultRule[]): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The DynamoDB endpoint to forward to. */
  readonly target: string;
  /** Request-level rules are tried in order; the first that fires answers the request. */
  readonly rules?: readonly FaultRule[];
  /** Seed of the random draws, so a failing run can be replayed. @default 1 */
  readonly seed?: number;
}

type RequestFault = Exclude<FaultRule, { kind: 'unprocessed' } | { kind: 'access-denied' }>;
type AccessDeniedRule = Extract<FaultRule, { kind: 'access-denied' }>;
type WriteRequests = Record<string, unknown[]>;

const JSON_TYPE = 'application/x-amz-json-1.0';
const ERROR_TYPES = {
  ProvisionedThroughputExceededException:
    'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  ThrottlingException: 'com.amazon.coral.availability#ThrottlingException',
  InternalServerError: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
  AccessDeniedException: 'com.amazon.coral.service#AccessDeniedException',
} as const;

/**
 * A real HTTP proxy in front of DynamoDB (Local) that injects faults by rule: partial BatchWriteItem
 * results, throttling, 500s and connection resets. Rewritten responses get a fresh `x-amz-crc32`,
 * which the SDK checks.
 *
 * @example
 * const proxy = await startFaultProxy({ target: endpoint, rules: [{ kind: 'unprocessed', fraction: 0.5 }] });
 * const client = new DynamoDBClient({ endpoint: proxy.url, maxAttempts: 1 });
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = mulberry32(options.seed ?? 1);
  const stats: FaultStats = {
    requests: 0,
    forwarded: 0,
    unprocessedItems: 0,
    throttled: 0,
    internalErrors: 0,
    resets: 0,
    accessDenied: 0,
  };
  let rules = options.rules ?? [];
  let considered = new Map<FaultRule, number>();
  const fires = (rule: RequestFault): boolean => {
    if (rule.every === undefined) return random() < rule.rate;
    const count = (considered.get(rule) ?? 0) + 1;
    considered.set(rule, count);
    return count % rule.every === 0;
  };
  const agent = new Agent({ keepAlive: true });

  const forward = (req: IncomingMessage, body: Buffer) => forwardRequest(agent, target, req, body);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    stats.requests++;
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const deny = rules.find((rule): rule is AccessDeniedRule => rule.kind === 'access-denied');
    const deniedTable = deny && tablesOf(body).find((table) => deny.tables.includes(table));
    if (deniedTable !== undefined) {
      stats.accessDenied++;
      return sendJson(res, 400, {
        __type: ERROR_TYPES.AccessDeniedException,
        message: `User: arn:aws:sts::123456789012:assumed-role/batch-writer is not authorized to perform: dynamodb:${operation} on resource: arn:aws:dynamodb:us-east-1:123456789012:table/${deniedTable}`,
      });
    }
    const fault = rules.find(
      (rule): rule is RequestFault =>
        rule.kind !== 'unprocessed' &&
        rule.kind !== 'access-denied' &&
        (rule.operations === undefined || rule.operations.includes(operation)) &&
        fires(rule),
    );
    if (fault?.kind === 'reset') {
      stats.resets++;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'throttle') {
      stats.throttled++;
      const type = fault.error ?? 'ProvisionedThroughputExceededException';
      return sendJson(res, 400, { __type: ERROR_TYPES[type], message: 'injected by the fault proxy' });
    }
    if (fault?.kind === 'internal-error') {
      stats.internalErrors++;
      return sendJson(res, 500, {
        __type: ERROR_TYPES.InternalServerError,
        message: 'injected by the fault proxy',
      });
    }
    const holdBack = rules.find((rule) => rule.kind === 'unprocessed');
    if (operation !== 'BatchWriteItem' || !holdBack) {
      stats.forwarded++;
      const answer = await forward(req, body);
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    const input = JSON.parse(body.toString('utf8')) as { RequestItems: WriteRequests };
    const { kept, held } = split(input.RequestItems, holdBack.fraction, random);
    stats.unprocessedItems += count(held);
    if (count(kept) === 0) return sendJson(res, 200, { UnprocessedItems: held });
    stats.forwarded++;
    const answer = await forward(req, Buffer.from(JSON.stringify({ ...input, RequestItems: kept })));
    if (answer.status !== 200) {
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    const output = JSON.parse(answer.body.toString('utf8')) as { UnprocessedItems?: WriteRequests };
    sendJson(res, 200, { ...output, UnprocessedItems: merge(output.UnprocessedItems ?? {}, held) });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // The upstream went away: answer like an unreachable service would.
      if (!res.headersSent) sendJson(res, 502, { message: `fault proxy: ${String(error)}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setRules(next) {
      rules = next;
      considered = new Map();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res
    .writeHead(status, {
      'content-type': JSON_TYPE,
      'content-length': String(body.length),
      'x-amzn-requestid': randomUUID(),
      'x-amz-crc32': String(crc32(body)),
    })
    .end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The tables a request names: `TableName`, or the keys of BatchWriteItem's `RequestItems`. */
function tablesOf(body: Buffer): string[] {
  try {
    const input = JSON.parse(body.toString('utf8')) as { TableName?: string; RequestItems?: object };
    return [...(input.TableName ? [input.TableName] : []), ...Object.keys(input.RequestItems ?? {})];
  } catch {
    return [];
  }
}

/** Keeps each write with probability 1 − `fraction`. */
function split(
  items: WriteRequests,
  fraction: number,
  random: () => number,
): { kept: WriteRequests; held: WriteRequests } {
  const kept: WriteRequests = {};
  const held: WriteRequests = {};
  for (const [table, requests] of Object.entries(items)) {
    for (const writeRequest of requests) {
      const bucket = random() < fraction ? held : kept;
      bucket[table] = [...(bucket[table] ?? []), writeRequest];
    }
  }
  return { kept, held };
}

function merge(a: WriteRequests, b: WriteRequests): WriteRequests {
  const merged: WriteRequests = { ...a };
  for (const [table, requests] of Object.entries(b)) merged[table] = [...(merged[table] ?? []), ...requests];
  return merged;
}

function count(items: WriteRequests): number {
  return Object.values(items).reduce((sum, requests) => sum + requests.length, 0);
}
