import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { inject } from 'vitest';
import { localClientConfig } from '../../shared/local/aws/client-config.ts';
import { readCloudAssembly } from '../../shared/local/cloud/assembly.ts';
import type { Denial } from '../../shared/local/cloud/iam/index.ts';
import { type LocalCloud, startLocalCloud } from '../../shared/local/cloud/local-cloud.ts';
import type { SqsEventSourcePoller } from '../../shared/local/lambda/poller.ts';
import { type RoutesConfig, RoutesSchema } from '../../shared/pipeline/routing.ts';
import { type TestStackKind, testStacks } from './cloud/test-stacks.ts';

/** A dead-lettered message with the reason the function gave (`ErrorCode`, `ErrorMessage`). */
export interface DeadLetter {
  readonly body: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** The tables of the `routed` stack's data-tables stack, by output. */
export interface DataTables {
  readonly orders: string;
  readonly audit: string;
  /** A table that exists but that the write path is not granted. */
  readonly ungranted: string;
}

export interface WritePathHarness {
  /** The deployment: its outputs, pollers, functions and IAM record. */
  readonly cloud: LocalCloud;
  /** The stack the write path runs in (see `testStacks`). */
  readonly stack: string;
  /** Outputs of the stack. */
  readonly tableName: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly snapshotsTableName: string;
  readonly configChangesQueueUrl: string;
  readonly configChangesDeadLetterQueueUrl: string;
  /** `GrantedTableNames`: the items table, then the write path's `dataTables`. */
  readonly grantedTables: readonly string[];
  /** The data tables, for the `routed` stack only. */
  readonly dataTables?: DataTables;
  /** The deployed batch writer's `TABLE_ROUTES`: its bootstrap routing. */
  readonly routes: RoutesConfig;
  /** The batch writer's event source, as Lambda's pollers drive it (its `stats`). */
  readonly poller: SqsEventSourcePoller;
  /** The snapshot publisher's event source (the config-changes queue). */
  readonly publisherPoller: SqsEventSourcePoller;
  /** An admin client through the deployment's DynamoDB endpoint. */
  readonly dynamodb: DynamoDBClient;
  /** Sends raw bodies (objects are JSON-encoded) to the ingest queue, ten per request, in order. */
  send(bodies: readonly unknown[], options?: { groupId?: (i: number) => string }): Promise<void>;
  /** Sends config changes to the config-changes queue, in order, in the `pipeline` group. */
  sendConfigChanges(changes: readonly unknown[]): Promise<void>;
  /** Waits until every queue a function consumes is empty and no invocation runs. */
  drain(timeoutMs?: number): Promise<void>;
  /** Every item in a table (the items table by default), keyed by pk. */
  items(tableName?: string): Promise<Map<string, Record<string, unknown>>>;
  /** One item by pk (sk `1`), strongly consistent; undefined when there is none. */
  item(tableName: string, pk: string): Promise<Record<string, unknown> | undefined>;
  /** The write path DLQ's messages not seen by an earlier call. */
  deadLetters(): Promise<DeadLetter[]>;
  /** The config-changes DLQ's messages not seen by an earlier call. */
  configDeadLetters(): Promise<DeadLetter[]>;
  /** Every (action, resource) pair IAM refused a role of the deployment so far. */
  denials(): Denial[];
  /** Stops the functions and deletes the deployment's tables and queues. */
  stop(): Promise<void>;
}

export interface StartWritePathOptions {
  /** Which test stack (test/support/cloud/test-app.ts). @default 'standard' */
  readonly stack?: TestStackKind;
  /** Where the deployment's DynamoDB gateway forwards to, e.g. a fault proxy. @default the embedded DynamoDB */
  readonly dynamodbEndpoint?: string;
}

/**
 * A copy of a test stack of its own (unique name prefix) deployed on the local cloud from the
 * synthesized test app: the bundled batch writer and snapshot publisher with the template's
 * environment, event sources and IAM. Several can run in one test file.
 */
export async function startWritePath(options: StartWritePathOptions = {}): Promise<WritePathHarness> {
  const kind = options.stack ?? 'standard';
  const stack = testStacks[kind];
  const stacks = kind === 'routed' ? [testStacks.dataTables, stack] : [stack];
  const aws = inject('localAws');
  const cloud = await startLocalCloud({
    assembly: readCloudAssembly(inject('testAssemblyDir')),
    endpoints: { ...aws, ...(options.dynamodbEndpoint ? { dynamodb: options.dynamodbEndpoint } : {}) },
    stacks,
    namePrefix: `t${randomUUID().slice(0, 6)}-`,
    // WRITE_PATH_LOGS=1 shows what the functions log and what their pollers run into.
    ...(process.env.WRITE_PATH_LOGS
      ? {
          onFunctionLog: (line, { functionName }) => process.stderr.write(`[${functionName}] ${line}\n`),
          onError: (error) => process.stderr.write(`[poller] ${String(error)}\n`),
        }
      : {}),
  });
  const { region } = cloud.endpoints;
  const sqs = new SQSClient(localClientConfig(cloud.endpoints.sqs, region));
  const dynamodb = new DynamoDBClient(localClientConfig(cloud.endpoints.dynamodb, region));
  const output = (name: string) => cloud.output(stack, name);
  const queueUrl = output('IngestQueueUrl');
  const configChangesQueueUrl = output('ConfigChangesQueueUrl');
  const consumerOf = (url: string) => eventSourceOf(cloud, url);
  const batchWriter = consumerOf(queueUrl);

  const receiveAll = async (url: string): Promise<DeadLetter[]> => {
    const letters: Message[] = [];
    for (let empty = 0; empty < 2; ) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          // Seen once: a later call returns only newer letters.
          VisibilityTimeout: 300,
          // An empty short poll proves nothing (a loaded local-aws-sqs can answer one empty while
          // letters wait): the second, confirming poll is a long one.
          WaitTimeSeconds: empty > 0 ? 1 : 0,
        }),
      );
      if (!out.Messages?.length) empty++;
      else letters.push(...out.Messages);
    }
    return letters.map((m) => ({
      body: m.Body ?? '',
      errorCode: m.MessageAttributes?.ErrorCode?.StringValue ?? '(none)',
      errorMessage: m.MessageAttributes?.ErrorMessage?.StringValue ?? '',
    }));
  };

  const sendBatches = async (url: string, entries: readonly SendMessageBatchRequestEntry[]) => {
    for (let start = 0; start < entries.length; start += 10) {
      const out = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries: entries.slice(start, start + 10) }),
      );
      if (out.Failed?.length) throw new Error(`send failed: ${JSON.stringify(out.Failed)}`);
    }
  };
  const encode = (body: unknown) => (typeof body === 'string' ? body : JSON.stringify(body));
  const runId = randomUUID().slice(0, 8);
  let sent = 0;

  return {
    cloud,
    stack,
    tableName: output('TableName'),
    queueUrl,
    deadLetterQueueUrl: output('DeadLetterQueueUrl'),
    snapshotsTableName: output('SnapshotsTableName'),
    configChangesQueueUrl,
    configChangesDeadLetterQueueUrl: output('ConfigChangesDeadLetterQueueUrl'),
    grantedTables: output('GrantedTableNames').split(','),
    ...(kind === 'routed'
      ? {
          dataTables: {
            orders: cloud.output(testStacks.dataTables, 'OrdersTableName'),
            audit: cloud.output(testStacks.dataTables, 'AuditTableName'),
            ungranted: cloud.output(testStacks.dataTables, 'UngrantedTableName'),
          },
        }
      : {}),
    routes: RoutesSchema.parse(JSON.parse(batchWriter.environment.TABLE_ROUTES ?? '{}')),
    poller: batchWriter.poller,
    publisherPoller: consumerOf(configChangesQueueUrl).poller,
    dynamodb,
    send: (bodies, sendOptions = {}) =>
      sendBatches(
        queueUrl,
        bodies.map((body, i) => ({
          Id: String(i % 10),
          MessageBody: encode(body),
          ...(sendOptions.groupId
            ? { MessageGroupId: sendOptions.groupId(i), MessageDeduplicationId: `${runId}-${sent++}` }
            : {}),
        })),
      ),
    // The queue has no content-based deduplication: each change carries an id of its own.
    sendConfigChanges: (changes) =>
      sendBatches(
        configChangesQueueUrl,
        changes.map((change, i) => ({
          Id: String(i % 10),
          MessageBody: encode(change),
          MessageGroupId: 'pipeline',
          MessageDeduplicationId: `${runId}-change-${sent++}`,
        })),
      ),
    drain: (timeoutMs = 60_000) => cloud.drain(timeoutMs),
    async items(tableName = output('TableName')) {
      const items = new Map<string, Record<string, unknown>>();
      let start: Record<string, never> | undefined;
      do {
        const page = await dynamodb.send(
          new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        for (const raw of page.Items ?? []) {
          const item = unmarshall(raw);
          items.set(String(item.pk), item);
        }
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start);
      return items;
    },
    async item(tableName, pk) {
      const { Item } = await dynamodb.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: pk }, sk: { S: '1' } },
          ConsistentRead: true,
        }),
      );
      return Item ? unmarshall(Item) : undefined;
    },
    deadLetters: () => receiveAll(output('DeadLetterQueueUrl')),
    configDeadLetters: () => receiveAll(output('ConfigChangesDeadLetterQueueUrl')),
    denials: () => cloud.iam.denials(),
    async stop() {
      await cloud.stop();
      await cloud.destroy();
    },
  };
}

/** The function that consumes the queue at `url`, and the poller of its event source. */
function eventSourceOf(
  cloud: LocalCloud,
  url: string,
): { poller: SqsEventSourcePoller; environment: Readonly<Record<string, string>> } {
  const { queues, eventSourceMappings, functions } = cloud.deployment;
  const queue = queues.find((q) => q.url === url);
  const mapping = eventSourceMappings.find((m) => m.queueArn === queue?.arn);
  const poller = mapping && cloud.pollers.get(mapping.logicalId);
  const fn = functions.find((f) => f.name === mapping?.functionName);
  if (!poller || !fn) throw new Error(`no function consumes ${url}`);
  return { poller, environment: fn.environment };
}
