import { MalformedRequestError, UnsupportedOperationError } from './errors.ts';

/** The services whose requests the local IAM gateway can authorize. */
export type IamService = 'dynamodb' | 'sqs' | 'ecs';

/** One IAM authorization a request needs: `action` on `resource`, with the request's condition keys. */
export interface AuthorizationCheck {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

/** What one HTTP request asks IAM for: every check must be allowed. */
export interface AuthorizationRequest {
  /** The API operation, e.g. `BatchWriteItem`. */
  readonly operation: string;
  readonly checks: readonly AuthorizationCheck[];
}

/** Where the request is made: resources' ARNs carry this region and account. */
export interface RequestContext {
  readonly region: string;
  readonly account: string;
  /** The request's path and query string; SQS's query protocol may carry its parameters there. @default '/' */
  readonly path?: string;
}

/** HTTP headers as `node:http` gives them (lower-case names). */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

type Input = Readonly<Record<string, unknown>>;
type Checks = (operation: string, input: Input, ctx: RequestContext) => AuthorizationCheck[];

/**
 * The IAM authorizations one HTTP request to `service` needs, from its `X-Amz-Target` header (or
 * SQS's query-protocol `Action`) and its body, following AWS's Service Authorization Reference: a
 * BatchWriteItem needs `dynamodb:BatchWriteItem` on every table it writes, a TransactWriteItems the
 * item action of each of its items, a SendMessageBatch `sqs:SendMessage` on its queue.
 *
 * @throws UnsupportedOperationError for an operation it does not know (never a silent allow)
 * @throws MalformedRequestError when the body does not say what the request acts on
 * @example
 * authorizationRequests('dynamodb', req.headers, body, { region: 'us-east-1', account: '123456789012' });
 * // → { operation: 'BatchWriteItem', checks: [{ action: 'dynamodb:BatchWriteItem', resource: 'arn:aws:dynamodb:…:table/items' }] }
 */
export function authorizationRequests(
  service: IamService,
  headers: RequestHeaders,
  body: Buffer | string,
  ctx: RequestContext,
): AuthorizationRequest {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (service === 'dynamodb')
    return jsonRequest(service, DYNAMODB_TARGET, headers, text, ctx, dynamodbChecks);
  if (service === 'ecs') return jsonRequest(service, ECS_TARGET, headers, text, ctx, ecsChecks);
  if (service === 'sqs') {
    return header(headers, 'x-amz-target') === undefined
      ? sqsQueryRequest(text, ctx)
      : jsonRequest(service, SQS_TARGET, headers, text, ctx, sqsChecks);
  }
  throw new UnsupportedOperationError(String(service), '*');
}

/** The operations `authorizationRequests` maps for `service`. */
export function supportedOperations(service: IamService): readonly string[] {
  const operations = { dynamodb: DYNAMODB_OPERATIONS, sqs: SQS_OPERATIONS, ecs: ECS_OPERATIONS }[service];
  return Object.keys(operations);
}

function jsonRequest(
  service: IamService,
  targetPrefix: string,
  headers: RequestHeaders,
  body: string,
  ctx: RequestContext,
  checks: Checks,
): AuthorizationRequest {
  const target = header(headers, 'x-amz-target') ?? '';
  const [prefix, operation = ''] = target.split('.');
  if (prefix !== targetPrefix) throw new UnsupportedOperationError(service, target || '(no X-Amz-Target)');
  return { operation, checks: unique(checks(operation, parseJson(service, body), ctx)) };
}

/**
 * The operation a request names (`X-Amz-Target`'s tail, or the query protocol's `Action`), unchecked;
 * empty when it names none.
 */
export function requestOperation(
  service: IamService,
  headers: RequestHeaders,
  body: Buffer | string,
  path = '/',
): string {
  const target = header(headers, 'x-amz-target');
  if (target !== undefined) return target.split('.')[1] ?? '';
  if (service !== 'sqs') return '';
  return queryParams(typeof body === 'string' ? body : body.toString('utf8'), path).get('Action') ?? '';
}

/** The query protocol's parameters: the query string's, then the form body's. */
function queryParams(body: string, path: string): URLSearchParams {
  const params = new URLSearchParams(path.split('?')[1] ?? '');
  for (const [key, value] of new URLSearchParams(body)) params.set(key, value);
  return params;
}

function sqsQueryRequest(body: string, ctx: RequestContext): AuthorizationRequest {
  const path = ctx.path ?? '/';
  const params = queryParams(body, path);
  const operation = params.get('Action') ?? '';
  const input: Record<string, unknown> = Object.fromEntries(params);
  // An old-style query request is posted to the queue URL itself, with no QueueUrl parameter.
  const pathname = path.split('?')[0] ?? '/';
  if (input.QueueUrl === undefined && pathname.split('/').filter(Boolean).length >= 2)
    input.QueueUrl = pathname;
  return { operation, checks: unique(sqsChecks(operation, input, ctx)) };
}

function header(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

function parseJson(service: IamService, body: string): Input {
  if (body.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new MalformedRequestError(service, 'the body is not JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedRequestError(service, 'the body is not a JSON object');
  }
  return value as Input;
}

function unique(checks: readonly AuthorizationCheck[]): AuthorizationCheck[] {
  const seen = new Map<string, AuthorizationCheck>();
  for (const check of checks) seen.set(JSON.stringify([check.action, check.resource, check.context]), check);
  return [...seen.values()];
}

function requiredString(service: IamService, operation: string, input: Input, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw new MalformedRequestError(service, `${operation} without ${field}`);
  }
  return value;
}

function stringList(service: IamService, operation: string, input: Input, field: string): string[] {
  const value = input[field];
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    throw new MalformedRequestError(service, `${operation} without a list of ${field}`);
  }
  return value;
}

function objectOf(value: unknown): Input {
  return typeof value === 'object' && value !== null ? (value as Input) : {};
}

const DYNAMODB_TARGET = 'DynamoDB_20120810';

/**
 * What each DynamoDB operation is authorized on: its `TableName` (`table`), the index named by
 * `IndexName` when there is one (`table-or-index`), its `ResourceArn`, each table of `RequestItems`
 * (`tables`), each item of `TransactItems`, or nothing (`account`: resource `*`).
 */
const DYNAMODB_OPERATIONS = {
  GetItem: 'table',
  PutItem: 'table',
  UpdateItem: 'table',
  DeleteItem: 'table',
  Query: 'table-or-index',
  Scan: 'table-or-index',
  BatchGetItem: 'tables',
  BatchWriteItem: 'tables',
  TransactGetItems: 'transact',
  TransactWriteItems: 'transact',
  CreateTable: 'table',
  DeleteTable: 'table',
  DescribeTable: 'table',
  UpdateTable: 'table',
  DescribeTimeToLive: 'table',
  UpdateTimeToLive: 'table',
  DescribeContinuousBackups: 'table',
  UpdateContinuousBackups: 'table',
  DescribeContributorInsights: 'table-or-index',
  UpdateContributorInsights: 'table-or-index',
  DescribeKinesisStreamingDestination: 'table',
  EnableKinesisStreamingDestination: 'table',
  DisableKinesisStreamingDestination: 'table',
  UpdateKinesisStreamingDestination: 'table',
  DescribeTableReplicaAutoScaling: 'table',
  UpdateTableReplicaAutoScaling: 'table',
  ListTagsOfResource: 'resource-arn',
  TagResource: 'resource-arn',
  UntagResource: 'resource-arn',
  GetResourcePolicy: 'resource-arn',
  PutResourcePolicy: 'resource-arn',
  DeleteResourcePolicy: 'resource-arn',
  ListTables: 'account',
  DescribeLimits: 'account',
  DescribeEndpoints: 'account',
  ListBackups: 'account',
  ListExports: 'account',
  ListImports: 'account',
  ListGlobalTables: 'account',
  ListContributorInsights: 'account',
} as const satisfies Record<
  string,
  'table' | 'table-or-index' | 'tables' | 'transact' | 'resource-arn' | 'account'
>;

/** The IAM action of each kind of TransactItems entry: a transaction has no action of its own. */
const TRANSACT_ACTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  TransactGetItems: { Get: 'dynamodb:GetItem' },
  TransactWriteItems: {
    Put: 'dynamodb:PutItem',
    Update: 'dynamodb:UpdateItem',
    Delete: 'dynamodb:DeleteItem',
    ConditionCheck: 'dynamodb:ConditionCheckItem',
  },
};

function dynamodbChecks(operation: string, input: Input, ctx: RequestContext): AuthorizationCheck[] {
  const scope = (DYNAMODB_OPERATIONS as Readonly<Record<string, string>>)[operation];
  if (scope === undefined) throw new UnsupportedOperationError('dynamodb', operation);
  const action = `dynamodb:${operation}`;
  const table = () => tableArn(ctx, requiredString('dynamodb', operation, input, 'TableName'));
  switch (scope) {
    case 'table':
      return [{ action, resource: table() }];
    case 'table-or-index': {
      const index = input.IndexName;
      return [{ action, resource: typeof index === 'string' ? `${table()}/index/${index}` : table() }];
    }
    case 'tables': {
      const tables = Object.keys(objectOf(input.RequestItems));
      if (tables.length === 0)
        throw new MalformedRequestError('dynamodb', `${operation} without RequestItems`);
      return tables.map((name) => ({ action, resource: tableArn(ctx, name) }));
    }
    case 'transact':
      return transactChecks(operation, input, ctx);
    case 'resource-arn':
      return [{ action, resource: requiredString('dynamodb', operation, input, 'ResourceArn') }];
    default:
      return [{ action, resource: '*' }];
  }
}

function transactChecks(operation: string, input: Input, ctx: RequestContext): AuthorizationCheck[] {
  const items = input.TransactItems;
  if (!Array.isArray(items) || items.length === 0) {
    throw new MalformedRequestError('dynamodb', `${operation} without TransactItems`);
  }
  return items.flatMap((item) =>
    Object.entries(objectOf(item)).map(([kind, request]) => {
      const action = TRANSACT_ACTIONS[operation]?.[kind];
      if (action === undefined)
        throw new MalformedRequestError('dynamodb', `${operation} item of kind ${kind}`);
      const name = requiredString('dynamodb', `${operation} ${kind}`, objectOf(request), 'TableName');
      return { action, resource: tableArn(ctx, name) };
    }),
  );
}

/** DynamoDB takes a table's name or its ARN wherever it takes `TableName`. */
function tableArn(ctx: RequestContext, nameOrArn: string): string {
  return nameOrArn.startsWith('arn:')
    ? nameOrArn
    : `arn:aws:dynamodb:${ctx.region}:${ctx.account}:table/${nameOrArn}`;
}

const SQS_TARGET = 'AmazonSQS';

/**
 * Each SQS operation's IAM action (batches are authorized as their single-message action) and what
 * names its queue: `QueueUrl`, `QueueName`, `SourceArn`, or nothing (`account`: resource `*`).
 */
const SQS_OPERATIONS = {
  SendMessage: { scope: 'queue-url' },
  SendMessageBatch: { scope: 'queue-url', action: 'SendMessage' },
  ReceiveMessage: { scope: 'queue-url' },
  DeleteMessage: { scope: 'queue-url' },
  DeleteMessageBatch: { scope: 'queue-url', action: 'DeleteMessage' },
  ChangeMessageVisibility: { scope: 'queue-url' },
  ChangeMessageVisibilityBatch: { scope: 'queue-url', action: 'ChangeMessageVisibility' },
  GetQueueAttributes: { scope: 'queue-url' },
  SetQueueAttributes: { scope: 'queue-url' },
  PurgeQueue: { scope: 'queue-url' },
  DeleteQueue: { scope: 'queue-url' },
  ListDeadLetterSourceQueues: { scope: 'queue-url' },
  ListQueueTags: { scope: 'queue-url' },
  TagQueue: { scope: 'queue-url' },
  UntagQueue: { scope: 'queue-url' },
  AddPermission: { scope: 'queue-url' },
  RemovePermission: { scope: 'queue-url' },
  CreateQueue: { scope: 'queue-name' },
  GetQueueUrl: { scope: 'queue-name' },
  StartMessageMoveTask: { scope: 'source-arn' },
  ListMessageMoveTasks: { scope: 'source-arn' },
  ListQueues: { scope: 'account' },
} as const satisfies Record<
  string,
  { scope: 'queue-url' | 'queue-name' | 'source-arn' | 'account'; action?: string }
>;

function sqsChecks(operation: string, input: Input, ctx: RequestContext): AuthorizationCheck[] {
  const spec = (SQS_OPERATIONS as Readonly<Record<string, { scope: string; action?: string }>>)[operation];
  if (spec === undefined) throw new UnsupportedOperationError('sqs', operation || '(no Action)');
  const action = `sqs:${spec.action ?? operation}`;
  switch (spec.scope) {
    case 'queue-url':
      return [
        { action, resource: queueArn(ctx, queueNameOf(requiredString('sqs', operation, input, 'QueueUrl'))) },
      ];
    case 'queue-name': {
      const name = requiredString('sqs', operation, input, 'QueueName');
      const owner = input.QueueOwnerAWSAccountId;
      return [{ action, resource: queueArn(ctx, name, typeof owner === 'string' ? owner : undefined) }];
    }
    case 'source-arn':
      return [{ action, resource: requiredString('sqs', operation, input, 'SourceArn') }];
    default:
      return [{ action, resource: '*' }];
  }
}

/** The queue's name: the last segment of its URL's path, as local-aws-sqs and AWS read it. */
function queueNameOf(queueUrl: string): string {
  const path = URL.canParse(queueUrl) ? new URL(queueUrl).pathname : queueUrl;
  return path.split('/').filter(Boolean).at(-1) ?? '';
}

function queueArn(ctx: RequestContext, name: string, account = ctx.account): string {
  return `arn:aws:sqs:${ctx.region}:${account}:${name}`;
}

const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113';

/** Each ECS operation and the list of resources it acts on: services or tasks of one cluster. */
const ECS_OPERATIONS = {
  DescribeServices: { kind: 'service', field: 'services' },
  UpdateService: { kind: 'service', field: 'service' },
  DescribeTasks: { kind: 'task', field: 'tasks' },
  UpdateTaskProtection: { kind: 'task', field: 'tasks' },
} as const satisfies Record<string, { kind: 'service' | 'task'; field: string }>;

/** ECS's cluster when a request names none. */
const DEFAULT_ECS_CLUSTER = 'default';

function ecsChecks(operation: string, input: Input, ctx: RequestContext): AuthorizationCheck[] {
  const spec = (ECS_OPERATIONS as Readonly<Record<string, { kind: string; field: string }>>)[operation];
  if (spec === undefined) throw new UnsupportedOperationError('ecs', operation);
  const cluster = typeof input.cluster === 'string' ? input.cluster : DEFAULT_ECS_CLUSTER;
  const clusterName = cluster.startsWith('arn:') ? cluster.slice(cluster.indexOf('cluster/') + 8) : cluster;
  const prefix = `arn:aws:ecs:${ctx.region}:${ctx.account}`;
  const context = { 'ecs:cluster': cluster.startsWith('arn:') ? cluster : `${prefix}:cluster/${cluster}` };
  const names =
    typeof input[spec.field] === 'string'
      ? [requiredString('ecs', operation, input, spec.field)]
      : stringList('ecs', operation, input, spec.field);
  return names.map((name) => ({
    action: `ecs:${operation}`,
    resource: name.startsWith('arn:') ? name : `${prefix}:${spec.kind}/${clusterName}/${name}`,
    context,
  }));
}
