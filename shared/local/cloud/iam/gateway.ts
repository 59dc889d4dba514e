import { randomUUID } from 'node:crypto';
import {
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { LocalIamError } from './errors.ts';
import type { Decision, IamEvaluator } from './evaluator.ts';
import { isRoleAccessKey, type LocalIdentities, type LocalRole, sessionArn } from './identities.ts';
import {
  type AuthorizationCheck,
  authorizationRequests,
  type IamService,
  requestOperation,
} from './requests.ts';

export interface IamGatewayOptions {
  readonly service: IamService;
  /** The endpoint it stands in front of: DynamoDB Local, local-aws-sqs or LocalStack (`http(s)://host:port`). */
  readonly upstream: string;
  readonly evaluator: IamEvaluator;
  readonly identities: LocalIdentities;
  /** Region and account of the resources' ARNs; they must match the roles' resolved policies. */
  readonly region: string;
  readonly account: string;
  /** One line per refused request: role, action, resource and why, never a payload. @default no logging */
  readonly log?: (line: string) => void;
  /**
   * The port to listen on (127.0.0.1), so that its URL (and the queue URLs through it) stays the
   * same across restarts; when it is taken, an ephemeral one. @default an ephemeral port
   */
  readonly port?: number;
}

/** A running gateway. */
export interface IamGateway extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: the endpoint to give the functions' SDK clients. */
  readonly url: string;
  /** Closes the server and its connections to the upstream. Safe to call twice. */
  stop(): Promise<void>;
}

/** How a refusal is worded on the wire. */
type ErrorStyle = 'json-1.0' | 'json-1.1' | 'sqs-json' | 'sqs-query';
type Refusal = { readonly code: 'AccessDenied' | 'UnrecognizedClient'; readonly message: string };

/** The SQS operations whose answers carry queue URLs, which must point back at the gateway. */
const QUEUE_URL_OPERATIONS = new Set([
  'CreateQueue',
  'GetQueueUrl',
  'ListQueues',
  'ListDeadLetterSourceQueues',
]);

/**
 * An HTTP endpoint in front of a local AWS service that enforces IAM: a request signed with a role's
 * credentials (`credentialsFor`) goes through only if the evaluator allows every action it needs,
 * and is otherwise refused as AWS refuses it (AccessDeniedException naming action and resource).
 * Any other access key id is the admin and passes unchecked. SQS answers are rewritten so that
 * their queue URLs lead back through the gateway (the SDK sends queue operations to the QueueUrl's host).
 *
 * @example
 * const gateway = await startIamGateway({ service: 'dynamodb', upstream, evaluator, identities, region, account });
 * const ddb = new DynamoDBClient({ endpoint: gateway.url, region, credentials: credentialsFor(role) });
 */
export async function startIamGateway(options: IamGatewayOptions): Promise<IamGateway> {
  const upstream = new URL(options.upstream);
  const agent =
    upstream.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  let origin = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const refusal = await check(options, req, body);
    if (refusal) return refuse(res, errorStyle(options.service, req.headers), refusal);
    const operation = requestOperation(options.service, req.headers, body, req.url);
    const rewrite = options.service === 'sqs' && QUEUE_URL_OPERATIONS.has(operation);
    forward(req, res, body, { upstream, agent, rewriteTo: rewrite ? origin : undefined });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => unreachable(res, error));
  });
  await listen(server, options.port ?? 0).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') throw error;
    options.log?.(`iam: port ${options.port} is taken; listening on another`);
    await listen(server, 0);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    });
    return stopped;
  };
  return { url: origin, stop, [Symbol.asyncDispose]: stop };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once('error', failed);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', failed);
      resolve();
    });
  });
}

interface Upstream {
  readonly upstream: URL;
  readonly agent: HttpAgent;
  /** The gateway's origin, when the answer's queue URLs must point at it. */
  readonly rewriteTo: string | undefined;
}

/** Sends the request on unchanged but for its host, and streams (or rewrites) the answer back. */
function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, to: Upstream): void {
  const headers: OutgoingHttpHeaders = {
    ...withoutHopByHop(req.headers),
    host: to.upstream.host,
    'content-length': String(body.length),
  };
  if (to.rewriteTo !== undefined) headers['accept-encoding'] = 'identity';
  const send = to.upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  const forwarded = send(
    {
      agent: to.agent,
      protocol: to.upstream.protocol,
      hostname: to.upstream.hostname,
      port: to.upstream.port,
      method: req.method,
      path: req.url,
      headers,
    },
    (answer) => (to.rewriteTo === undefined ? relay(answer, res) : relayRewritten(answer, res, to.rewriteTo)),
  );
  forwarded.on('error', (error) => unreachable(res, error));
  // A client that hangs up (a long poll cut short) releases the upstream request too.
  res.on('close', () => {
    if (!res.writableFinished) forwarded.destroy();
  });
  forwarded.end(body);
}

/** Why the request may not go through, or undefined when it may. */
async function check(
  options: IamGatewayOptions,
  req: IncomingMessage,
  body: Buffer,
): Promise<Refusal | undefined> {
  const accessKeyId = accessKeyOf(req);
  if (accessKeyId === undefined || !isRoleAccessKey(accessKeyId)) return undefined;
  const role = options.identities.roleOfAccessKey(accessKeyId);
  if (!role) {
    options.log?.(`iam: refused a request signed with unknown role key ${accessKeyId}`);
    return { code: 'UnrecognizedClient', message: 'The security token included in the request is invalid.' };
  }
  let checks: readonly AuthorizationCheck[];
  try {
    const ctx = { region: options.region, account: options.account, path: req.url };
    checks = authorizationRequests(options.service, req.headers, body, ctx).checks;
  } catch (error) {
    if (!(error instanceof LocalIamError)) throw error;
    options.log?.(`iam: refused ${role.name}: ${error.message}`);
    return { code: 'AccessDenied', message: `User: ${sessionArn(role)} is not authorized: ${error.message}` };
  }
  // Every check is decided (and recorded), so one run reports all the grants a request lacks.
  const decisions = await Promise.all(checks.map((c) => options.evaluator.authorize(role, c)));
  const denied = decisions.findIndex((decision) => !decision.allowed);
  if (denied < 0) return undefined;
  const refused = checks[denied]!;
  options.log?.(`iam: denied ${role.name} ${refused.action} on ${refused.resource}`);
  return { code: 'AccessDenied', message: accessDeniedMessage(role, refused, decisions[denied]!) };
}

/** AWS's wording, e.g. `User: arn:aws:sts::…:assumed-role/r/s is not authorized to perform: … on resource: … because …`. */
function accessDeniedMessage(role: LocalRole, check: AuthorizationCheck, decision: Decision): string {
  return (
    `User: ${sessionArn(role)} is not authorized to perform: ${check.action} ` +
    `on resource: ${check.resource} ${decision.reason}`
  );
}

/** The access key id of a SigV4 request: from its Authorization header, or a presigned URL's X-Amz-Credential. */
function accessKeyOf(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization ?? '';
  const signed = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  if (signed) return signed;
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  return query.get('X-Amz-Credential')?.split('/')[0] || undefined;
}

function errorStyle(service: IamService, headers: IncomingHttpHeaders): ErrorStyle {
  if (service === 'dynamodb') return 'json-1.0';
  if (service === 'ecs') return 'json-1.1';
  return headers['x-amz-target'] === undefined ? 'sqs-query' : 'sqs-json';
}

const JSON_ERROR_TYPES = {
  AccessDenied: 'com.amazon.coral.service#AccessDeniedException',
  UnrecognizedClient: 'com.amazon.coral.service#UnrecognizedClientException',
} as const;

/** SQS's query-protocol codes, which its JSON protocol also sends in `x-amzn-query-error`. */
const SQS_QUERY_CODES = { AccessDenied: 'AccessDenied', UnrecognizedClient: 'InvalidClientTokenId' } as const;

function refuse(res: ServerResponse, style: ErrorStyle, refusal: Refusal): void {
  const requestId = randomUUID();
  if (style === 'sqs-query') {
    const xml =
      '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>' +
      `<Type>Sender</Type><Code>${SQS_QUERY_CODES[refusal.code]}</Code>` +
      `<Message>${escapeXml(refusal.message)}</Message><Detail/></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`;
    send(res, 403, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, Buffer.from(xml));
    return;
  }
  const type = style === 'json-1.1' ? `${refusal.code}Exception` : JSON_ERROR_TYPES[refusal.code];
  const body = Buffer.from(JSON.stringify({ __type: type, message: refusal.message }));
  const headers: OutgoingHttpHeaders = {
    'content-type': style === 'json-1.1' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0',
    'x-amzn-requestid': requestId,
  };
  if (style === 'json-1.0') headers['x-amz-crc32'] = String(crc32(body));
  if (style === 'sqs-json') headers['x-amzn-query-error'] = `${SQS_QUERY_CODES[refusal.code]};Sender`;
  send(res, 400, headers, body);
}

function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Buffer): void {
  res.writeHead(status, { ...headers, 'content-length': String(body.length) }).end(body);
}

function relay(answer: IncomingMessage, res: ServerResponse): void {
  res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
  answer.on('error', () => res.destroy());
  answer.pipe(res);
}

/** Buffers an SQS answer and points the queue URLs in it at the gateway. */
function relayRewritten(answer: IncomingMessage, res: ServerResponse, origin: string): void {
  const chunks: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => chunks.push(chunk));
  answer.on('error', (error) => unreachable(res, error));
  answer.on('end', () => {
    const headers = withoutHopByHop(answer.headers);
    const encoded = (headers['content-encoding'] ?? 'identity') !== 'identity';
    const original = Buffer.concat(chunks);
    const body = encoded ? original : Buffer.from(rewriteQueueUrls(original.toString('utf8'), origin));
    delete headers['transfer-encoding'];
    send(res, answer.statusCode ?? 502, headers, body);
  });
}

/**
 * Points every queue URL of an SQS answer (JSON `QueueUrl`/`QueueUrls`/`queueUrls`, XML `<QueueUrl>`)
 * at `origin`, whatever host the emulator put there (LocalStack's `sqs.<region>.localhost…` included).
 * Only those fields: a message body that holds a URL is left alone.
 */
export function rewriteQueueUrls(body: string, origin: string): string {
  const repoint = (url: string) => (URL.canParse(url) ? `${origin}${new URL(url).pathname}` : url);
  if (body.trimStart().startsWith('<')) {
    return body.replace(
      /<QueueUrl>([^<]*)<\/QueueUrl>/g,
      (_, url: string) => `<QueueUrl>${repoint(url)}</QueueUrl>`,
    );
  }
  let output: Record<string, unknown>;
  try {
    output = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return body;
  }
  for (const [key, value] of Object.entries(output)) {
    if (!/^queueurls?$/i.test(key)) continue;
    if (typeof value === 'string') output[key] = repoint(value);
    else if (Array.isArray(value))
      output[key] = value.map((url) => (typeof url === 'string' ? repoint(url) : url));
  }
  return JSON.stringify(output);
}

/** The connection-level headers: each hop has its own. */
function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const { connection: _c, 'keep-alive': _k, 'proxy-connection': _p, ...rest } = headers;
  return rest;
}

/** The upstream went away (or the gateway failed): answer as an unreachable service would. */
function unreachable(res: ServerResponse, error: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  send(res, 502, { 'content-type': 'text/plain' }, Buffer.from(`local IAM gateway: ${String(error)}`));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
