import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CloudAssembly } from './assembly.ts';
import { LocalDeployError } from './errors.ts';
import { type LocalCloudIdentity, StackResolver } from './resolve.ts';

/** An IAM policy document, resolved. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[] | Record<string, unknown>;
}

export interface LocalRoleSpec {
  readonly arn: string;
  readonly name: string;
  readonly stack: string;
  readonly logicalId: string;
  readonly policies: readonly { readonly name: string; readonly document: PolicyDocument }[];
}

export interface DeployedTable {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

export interface DeployedQueue {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly visibilityTimeoutSeconds: number;
}

/** A Lambda function as the template declares it, ready to run from its asset. */
export interface LocalFunctionSpec {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The asset folder in `cdk.out` (the zip's content). */
  readonly assetDir: string;
  /** e.g. `index.handler`. */
  readonly handler: string;
  /** The template's `Environment.Variables`, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMiB: number;
  readonly reservedConcurrency?: number;
  readonly roleArn: string;
  readonly logGroupName?: string;
}

/** An `AWS::Lambda::EventSourceMapping` on an SQS queue, resolved. */
export interface LocalEventSourceMapping {
  readonly stack: string;
  readonly logicalId: string;
  readonly functionName: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  /** `ScalingConfig.MaximumConcurrency`. */
  readonly maximumConcurrency?: number;
  readonly reportBatchItemFailures: boolean;
  readonly enabled: boolean;
}

/** An ECS service and the task it runs, resolved. */
export interface LocalEcsService {
  readonly stack: string;
  readonly logicalId: string;
  readonly arn: string;
  readonly name: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  /** The first container's environment. */
  readonly environment: Readonly<Record<string, string>>;
  readonly taskRoleArn?: string;
}

/** What the cloud assembly became locally. */
export interface LocalDeployment {
  readonly identity: LocalCloudIdentity;
  /** Stack → output name → value, as `cdk deploy --outputs-file` writes them. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly tables: readonly DeployedTable[];
  readonly queues: readonly DeployedQueue[];
  readonly functions: readonly LocalFunctionSpec[];
  readonly eventSourceMappings: readonly LocalEventSourceMapping[];
  readonly roles: readonly LocalRoleSpec[];
  /** Queue ARN → its `AWS::SQS::QueuePolicy` documents. */
  readonly queuePolicies: ReadonlyMap<string, readonly PolicyDocument[]>;
  readonly ecsServices: readonly LocalEcsService[];
  /**
   * Resource type → how many the local cloud leaves out (VPC, alarms, keys …), in template order; also
   * `Type.Property` for a property of an emulated resource it ignores (provisioned pollers).
   */
  readonly notEmulated: ReadonlyMap<string, number>;
}

/** Resource types the local cloud creates or runs (the rest are listed in `notEmulated`). */
const EMULATED = new Set([
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::SQS::QueuePolicy',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::ECS::Service',
  'AWS::ECS::TaskDefinition',
  'AWS::ECS::Cluster',
  'AWS::CDK::Metadata',
]);

/** Event source mapping properties the local poller ignores (listed in `notEmulated` as `Type.Property`). */
const NOT_EMULATED_MAPPING_PROPERTIES = ['ProvisionedPollerConfig', 'MetricsConfig'] as const;

/**
 * Resolves every stack of `assembly` against the local cloud (stable physical names, cross-stack
 * references through the outputs of earlier stacks) without creating anything.
 */
export function planDeployment(assembly: CloudAssembly, identity: LocalCloudIdentity): LocalDeployment {
  const outputs: Record<string, Record<string, unknown>> = {};
  const exports = new Map<string, unknown>();
  const plan = {
    tables: [] as DeployedTable[],
    queues: [] as DeployedQueue[],
    functions: [] as LocalFunctionSpec[],
    eventSourceMappings: [] as LocalEventSourceMapping[],
    roles: [] as LocalRoleSpec[],
    queuePolicies: new Map<string, PolicyDocument[]>(),
    ecsServices: [] as LocalEcsService[],
    notEmulated: new Map<string, number>(),
  };
  for (const stack of assembly.stacks) {
    const resolver = new StackResolver(stack, identity, new Map(Object.entries(outputs)), exports);
    const assets = assetPaths(assembly.dir, stack.name);
    const rolePolicies = new Map<string, { name: string; document: PolicyDocument }[]>();
    const resources = resolver.resources;
    for (const [logicalId, resource] of resources) {
      if (!EMULATED.has(resource.Type)) {
        plan.notEmulated.set(resource.Type, (plan.notEmulated.get(resource.Type) ?? 0) + 1);
        continue;
      }
      if (resource.Type === 'AWS::IAM::Policy') {
        const props = resolver.properties(logicalId);
        for (const role of (props.Roles as string[] | undefined) ?? []) {
          const list = rolePolicies.get(role) ?? [];
          list.push({ name: String(props.PolicyName), document: props.PolicyDocument as PolicyDocument });
          rolePolicies.set(role, list);
        }
      }
    }
    for (const [logicalId, resource] of resources) {
      const physical = () => resolver.resource(logicalId);
      const where = { stack: stack.name, logicalId };
      switch (resource.Type) {
        case 'AWS::DynamoDB::Table':
          plan.tables.push({ ...where, name: physical().ref, arn: physical().attributes.Arn! });
          break;
        case 'AWS::SQS::Queue': {
          const props = resolver.properties(logicalId);
          plan.queues.push({
            ...where,
            name: physical().attributes.QueueName!,
            url: physical().ref,
            arn: physical().attributes.Arn!,
            fifo: String(props.FifoQueue) === 'true',
            visibilityTimeoutSeconds: Number(props.VisibilityTimeout ?? 30),
          });
          break;
        }
        case 'AWS::SQS::QueuePolicy': {
          const props = resolver.properties(logicalId);
          for (const url of (props.Queues as string[] | undefined) ?? []) {
            const arn = queueArnOfUrl(url, identity);
            plan.queuePolicies.set(arn, [
              ...(plan.queuePolicies.get(arn) ?? []),
              props.PolicyDocument as PolicyDocument,
            ]);
          }
          break;
        }
        case 'AWS::IAM::Role': {
          const props = resolver.properties(logicalId);
          const name = physical().ref;
          const inline = (
            (props.Policies as { PolicyName: string; PolicyDocument: PolicyDocument }[]) ?? []
          ).map((policy) => ({ name: policy.PolicyName, document: policy.PolicyDocument }));
          plan.roles.push({
            ...where,
            name,
            arn: physical().attributes.Arn!,
            policies: [...inline, ...(rolePolicies.get(name) ?? [])],
          });
          break;
        }
        case 'AWS::Lambda::Function': {
          const props = resolver.properties(logicalId);
          const code = props.Code as { S3Key?: string } | undefined;
          const hash = code?.S3Key?.replace(/\.zip$/, '');
          const logging = props.LoggingConfig as { LogGroup?: string } | undefined;
          plan.functions.push({
            ...where,
            name: physical().ref,
            arn: physical().attributes.Arn!,
            assetDir: hash === undefined ? '' : (assets.get(hash) ?? join(assembly.dir, `asset.${hash}`)),
            handler: String(props.Handler ?? 'index.handler'),
            environment: stringValues(
              (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
            ),
            timeoutSeconds: Number(props.Timeout ?? 3),
            memoryMiB: Number(props.MemorySize ?? 128),
            ...(props.ReservedConcurrentExecutions === undefined
              ? {}
              : { reservedConcurrency: Number(props.ReservedConcurrentExecutions) }),
            roleArn: String(props.Role),
            ...(logging?.LogGroup ? { logGroupName: logging.LogGroup } : {}),
          });
          break;
        }
        case 'AWS::Lambda::EventSourceMapping': {
          const props = resolver.properties(logicalId);
          const scaling = props.ScalingConfig as { MaximumConcurrency?: number } | undefined;
          // Locally the poller scales by MaximumConcurrency alone: provisioned pollers and the event
          // source's own metrics are left out, and listed as such.
          for (const key of NOT_EMULATED_MAPPING_PROPERTIES) {
            if (props[key] === undefined) continue;
            const name = `${resource.Type}.${key}`;
            plan.notEmulated.set(name, (plan.notEmulated.get(name) ?? 0) + 1);
          }
          plan.eventSourceMappings.push({
            ...where,
            functionName: String(props.FunctionName),
            queueArn: String(props.EventSourceArn),
            batchSize: Number(props.BatchSize ?? 10),
            maximumBatchingWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
            ...(scaling?.MaximumConcurrency === undefined
              ? {}
              : { maximumConcurrency: Number(scaling.MaximumConcurrency) }),
            reportBatchItemFailures: ((props.FunctionResponseTypes as string[]) ?? []).includes(
              'ReportBatchItemFailures',
            ),
            enabled: props.Enabled === undefined || String(props.Enabled) === 'true',
          });
          break;
        }
        case 'AWS::ECS::Service': {
          const props = resolver.properties(logicalId);
          const clusterRef = String(props.Cluster ?? 'default');
          const clusterName = clusterRef.split('/').pop()!;
          const taskDefinition = taskDefinitionOf(resolver, String(props.TaskDefinition));
          plan.ecsServices.push({
            ...where,
            arn: physical().ref,
            name: physical().attributes.Name!,
            clusterName,
            clusterArn: `arn:aws:ecs:${identity.region}:${identity.account}:cluster/${clusterName}`,
            ...taskDefinition,
          });
          break;
        }
      }
    }
    outputs[stack.name] = resolver.resolveOutputs();
    for (const [name, value] of resolver.resolveExports()) exports.set(name, value);
  }
  return { identity, outputs, ...plan };
}

/** The task definition `ref` (an ARN) points at, found among the stack's task definitions. */
function taskDefinitionOf(
  resolver: StackResolver,
  ref: string,
): Pick<LocalEcsService, 'environment' | 'taskRoleArn'> {
  for (const [logicalId, resource] of resolver.resources) {
    if (resource.Type !== 'AWS::ECS::TaskDefinition' || resolver.resource(logicalId).ref !== ref) continue;
    const props = resolver.properties(logicalId);
    const container = ((props.ContainerDefinitions as Record<string, unknown>[]) ?? [])[0] ?? {};
    const environment = Object.fromEntries(
      ((container.Environment as { Name: string; Value: unknown }[]) ?? []).map(({ Name, Value }) => [
        Name,
        String(Value),
      ]),
    );
    return { environment, ...(props.TaskRoleArn ? { taskRoleArn: String(props.TaskRoleArn) } : {}) };
  }
  return { environment: {} };
}

/** Asset hash → folder, from `<stack>.assets.json` (the file `cdk deploy` publishes from). */
function assetPaths(dir: string, stack: string): Map<string, string> {
  const manifest = join(dir, `${stack}.assets.json`);
  const paths = new Map<string, string>();
  if (!existsSync(manifest)) return paths;
  const { files = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    files?: Record<string, { source?: { path?: string } }>;
  };
  for (const [hash, file] of Object.entries(files)) {
    if (file.source?.path) paths.set(hash, join(dir, file.source.path));
  }
  return paths;
}

function stringValues(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, String(value)]));
}

function queueArnOfUrl(url: string, identity: LocalCloudIdentity): string {
  return `arn:aws:sqs:${identity.region}:${identity.account}:${url.split('/').pop()}`;
}

export interface DeployClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
}

/** Queue properties → SQS attribute names (all of them share the name). */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'SqsManagedSseEnabled',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
] as const;

/**
 * Creates the plan's tables and queues as the templates declare them, or brings existing ones
 * (a restart) to the template's attributes. Tables keep their items; queues keep their messages.
 *
 * @throws LocalDeployError when a table exists with another key schema (start with `--fresh`).
 */
export async function applyDeployment(
  assembly: CloudAssembly,
  plan: LocalDeployment,
  clients: DeployClients,
): Promise<void> {
  for (const stack of assembly.stacks) {
    const resolver = new StackResolver(stack, plan.identity, new Map(Object.entries(plan.outputs)));
    const tables = plan.tables.filter((table) => table.stack === stack.name);
    await Promise.all(
      tables.map((table) => ensureTable(clients.dynamodb, table, resolver.properties(table.logicalId))),
    );
    // Dead-letter queues first: a redrive policy must name an existing queue.
    const queues = plan.queues.filter((queue) => queue.stack === stack.name);
    const targets = new Set(
      queues.flatMap((queue) => {
        const redrive = resolver.properties(queue.logicalId).RedrivePolicy as
          | { deadLetterTargetArn?: string }
          | undefined;
        return redrive?.deadLetterTargetArn ? [redrive.deadLetterTargetArn] : [];
      }),
    );
    const ordered = [
      ...queues.filter((q) => targets.has(q.arn)),
      ...queues.filter((q) => !targets.has(q.arn)),
    ];
    for (const queue of ordered) await ensureQueue(clients.sqs, queue, resolver.properties(queue.logicalId));
  }
}

async function ensureTable(
  client: DynamoDBClient,
  table: DeployedTable,
  props: Record<string, unknown>,
): Promise<void> {
  const input: CreateTableCommandInput = {
    TableName: table.name,
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    BillingMode: (props.BillingMode as 'PAY_PER_REQUEST' | 'PROVISIONED' | undefined) ?? 'PROVISIONED',
    ...(props.ProvisionedThroughput
      ? {
          ProvisionedThroughput:
            props.ProvisionedThroughput as CreateTableCommandInput['ProvisionedThroughput'],
        }
      : {}),
    ...(props.GlobalSecondaryIndexes
      ? {
          GlobalSecondaryIndexes: indexes(
            props.GlobalSecondaryIndexes,
          ) as CreateTableCommandInput['GlobalSecondaryIndexes'],
        }
      : {}),
    ...(props.LocalSecondaryIndexes
      ? {
          LocalSecondaryIndexes: indexes(
            props.LocalSecondaryIndexes,
          ) as CreateTableCommandInput['LocalSecondaryIndexes'],
        }
      : {}),
    ...(props.StreamSpecification
      ? {
          StreamSpecification: {
            StreamEnabled: true,
            StreamViewType: (props.StreamSpecification as { StreamViewType: 'NEW_AND_OLD_IMAGES' })
              .StreamViewType,
          },
        }
      : {}),
  };
  try {
    const existing = await client.send(new DescribeTableCommand({ TableName: table.name }));
    const keys = (schema: unknown) => JSON.stringify(schema);
    if (keys(existing.Table?.KeySchema) !== keys(input.KeySchema)) {
      throw new LocalDeployError(
        `table ${table.name}`,
        `exists with key schema ${keys(existing.Table?.KeySchema)}, the template declares ${keys(input.KeySchema)}; start with --fresh`,
      );
    }
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(input));
    await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: table.name });
  }
  const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  if (ttl?.Enabled && ttl.AttributeName) {
    const current = await client.send(new DescribeTimeToLiveCommand({ TableName: table.name }));
    if (current.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: table.name,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    }
  }
}

/** GSI/LSI definitions as CreateTable takes them (the template may carry CloudFormation-only keys). */
function indexes(list: unknown): unknown[] {
  return (list as Record<string, unknown>[]).map(
    ({ IndexName, KeySchema, Projection, ProvisionedThroughput }) => ({
      IndexName,
      KeySchema,
      Projection,
      ...(ProvisionedThroughput ? { ProvisionedThroughput } : {}),
    }),
  );
}

async function ensureQueue(
  client: SQSClient,
  queue: DeployedQueue,
  props: Record<string, unknown>,
): Promise<void> {
  const attributes: Record<string, string> = {};
  for (const name of QUEUE_ATTRIBUTES) {
    const value = props[name];
    if (value === undefined) continue;
    attributes[name] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  let exists = true;
  try {
    await client.send(new GetQueueUrlCommand({ QueueName: queue.name }));
  } catch (error) {
    if (
      !(error instanceof QueueDoesNotExist) &&
      (error as Error).name !== 'AWS.SimpleQueueService.NonExistentQueue'
    )
      throw error;
    exists = false;
  }
  if (!exists) {
    await client.send(
      new CreateQueueCommand({
        QueueName: queue.name,
        Attributes: { ...attributes, ...(queue.fifo ? { FifoQueue: 'true' } : {}) },
      }),
    );
  } else if (Object.keys(attributes).length > 0) {
    // A restart: bring the queue to the template's attributes (FifoQueue cannot change).
    await client.send(new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: attributes }));
  }
}

/** Deletes the plan's tables and queues (`--destroy`, test clean-up). Missing ones are fine. */
export async function destroyDeployment(plan: LocalDeployment, clients: DeployClients): Promise<void> {
  await Promise.all([
    ...plan.tables.map(async (table) => {
      try {
        await clients.dynamodb.send(new DeleteTableCommand({ TableName: table.name }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }),
    ...plan.queues.map(async (queue) => {
      try {
        await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url }));
      } catch (error) {
        if (!(error instanceof QueueDoesNotExist)) throw error;
      }
    }),
  ]);
}
