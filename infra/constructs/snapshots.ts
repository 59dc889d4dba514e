import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PipelineConfigInput } from '../../shared/pipeline/config.ts';
import { SNAPSHOT_PUBLISHER_SERVICE } from '../../shared/pipeline/metric-names.ts';
import { SNAPSHOT_NAME_PATTERN, snapshotSettings } from '../../shared/snapshots/index.ts';
import { InvalidPropError } from './errors.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { deadLetterAlarm } from './queue-alarms.ts';
import { SecureQueue } from './secure-queue.ts';

const { table: tableSettings, publisher: publisherSettings } = snapshotSettings;

export type SnapshotsLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface SnapshotsProps {
  /** The snapshot that config changes apply to (`SNAPSHOT_NAME`). @default snapshotSettings.defaultName ('pipeline') */
  readonly snapshotName?: string;
  /** Publisher timeout. @default Duration.seconds(snapshotSettings.publisher.timeoutSeconds) (120 s) */
  readonly timeout?: Duration;
  /** Publisher memory (compressing large documents wants CPU). @default snapshotSettings.publisher.memoryMiB (1024) */
  readonly memoryMiB?: number;
  /**
   * Most concurrent publisher invocations the config-changes event source drives (2..1000; 2 is
   * SQS's minimum). Bounding the event source, not the function's reserved concurrency, means Lambda's
   * pollers never invoke into a throttle, so messages of several groups do not pile up receives
   * toward the DLQ. Concurrent publishers stay correct: the conditional pointer flip lets one win
   * and the others rebase (test/integration/snapshots/publish-race.test.ts).
   * @default 2
   */
  readonly maxConcurrency?: number;
  /** Receives before a change that keeps failing moves to the DLQ. @default snapshotSettings.publisher.maxReceiveCount (5) */
  readonly maxReceiveCount?: number;
  /** `POWERTOOLS_METRICS_NAMESPACE`. @default 'BatchWritePipeline' */
  readonly metricsNamespace?: string;
  /** `POWERTOOLS_LOG_LEVEL`. @default 'INFO' */
  readonly logLevel?: SnapshotsLogLevel;
  /** Retention of the publisher's log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** What happens to the table when it leaves the stack. @default RemovalPolicy.RETAIN (with deletion protection) */
  readonly tableRemovalPolicy?: RemovalPolicy;
}

/**
 * Configuration snapshots: the DynamoDB table of immutable versions and per-name pointers, a FIFO
 * config-changes queue (+ DLQ) and the publisher Lambda that turns each batch of changes into one
 * new version. Readers get `grantRead` (or `bindReader` for a function: grant + environment).
 *
 * Producers of changes must set a unique `MessageDeduplicationId` per change: the queue has no
 * content-based deduplication, because "set x=1" may legitimately be sent twice.
 *
 * The `pipeline` document's rules travel with it: `addGrantedTables` names the only tables a route
 * may name (every publisher and reader gets them as `GRANTED_TABLES`; a change routing elsewhere is
 * refused with `ROUTE_NOT_GRANTED`), and `addBootstrap` declares the configuration the functions run
 * with before anything is published, which the first version starts from (`BOOTSTRAP_CONFIG`).
 * Both render at synth, so they may be declared after `bindReader`.
 *
 * @example
 * const snapshots = new Snapshots(this, 'Snapshots');
 * writePath.useSnapshots(snapshots); // reader + granted tables + bootstrap routing
 */
export class Snapshots extends Construct {
  readonly table: Table;
  readonly changesQueue: Queue;
  readonly changesDeadLetterQueue: Queue;
  readonly publisher: PipelineFunction;
  /** `POWERTOOLS_METRICS_NAMESPACE` of the publisher. */
  readonly metricsNamespace: string;
  readonly logGroup: LogGroup;
  readonly snapshotName: string;
  /** Fires as soon as one config change sits in the DLQ. */
  readonly deadLetterAlarm: Alarm;
  private readonly granted: string[] = [];
  private readonly bootstrap = {
    routing: {} as Record<string, unknown>,
    writeOptions: {} as Record<string, unknown>,
    models: {} as Record<string, unknown>,
  };

  constructor(scope: Construct, id: string, props: SnapshotsProps = {}) {
    super(scope, id);
    this.metricsNamespace = props.metricsNamespace ?? 'BatchWritePipeline';
    this.snapshotName = props.snapshotName ?? snapshotSettings.defaultName;
    if (!SNAPSHOT_NAME_PATTERN.test(this.snapshotName)) {
      throw new InvalidPropError(
        'Snapshots',
        'snapshotName',
        this.snapshotName,
        'use 1-64 of A-Z a-z 0-9 _ . -',
      );
    }
    const timeout = props.timeout ?? Duration.seconds(publisherSettings.timeoutSeconds);
    const removalPolicy = props.tableRemovalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new Table(this, 'Table', {
      partitionKey: { name: tableSettings.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableSettings.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    });

    const changes = new SecureQueue(this, 'Changes', {
      // FIFO: changes to one document apply in the order they were sent.
      fifo: true,
      // "set x=1, set x=2, set x=1" must apply all three: no deduplication by content.
      contentBasedDeduplication: false,
      visibilityTimeout: Duration.seconds(6 * timeout.toSeconds()),
      maxReceiveCount: props.maxReceiveCount ?? publisherSettings.maxReceiveCount,
    });
    this.changesQueue = changes.queue;
    this.changesDeadLetterQueue = changes.deadLetterQueue;

    this.logGroup = new LogGroup(this, 'PublisherLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    this.publisher = this.createPublisher(props, timeout);
    const maxConcurrency = props.maxConcurrency ?? publisherSettings.maxConcurrency;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
      throw new InvalidPropError('Snapshots', 'maxConcurrency', String(maxConcurrency), 'use 2..1000');
    }
    this.publisher.consume(this.changesQueue, {
      batchSize: publisherSettings.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency,
    });

    this.deadLetterAlarm = deadLetterAlarm(
      this,
      'DeadLetterAlarm',
      this.changesDeadLetterQueue,
      'Config changes are waiting in the DLQ: rejected changes or exhausted retries.',
    );
  }

  /**
   * Lets a reader load snapshots: strongly consistent GetItem of pointer, manifest and chunks, all a
   * reader sends. (Listing versions queries the table; that is an operator's CLI, not a reader.)
   */
  grantRead(grantee: IGrantable): Grant {
    return this.table.grant(grantee, 'dynamodb:GetItem');
  }

  /**
   * Lets the rollout controller move automated rollouts: a strongly consistent GetItem of the
   * pointer, and the conditional flip — a transaction of a Put of the pointer and ConditionChecks
   * of the versions it names. Nothing else: it never reads or writes versions.
   */
  grantRollout(grantee: IGrantable): Grant {
    return this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem');
  }

  /**
   * Declares physical tables a route of the pipeline configuration may name: the tables the batch
   * writer is granted to write (see `WritePath.useSnapshots`). None declared: no route is accepted.
   */
  addGrantedTables(...tableNames: string[]): void {
    for (const name of tableNames) if (!this.granted.includes(name)) this.granted.push(name);
  }

  /** The tables declared with `addGrantedTables` (tokens until deploy). */
  get grantedTableNames(): readonly string[] {
    return [...this.granted];
  }

  /**
   * Declares part of the bootstrap document: the configuration the functions run with before any
   * version is published (routing and write options from the batch writer's environment, models
   * from the dispatcher's). Entries merge per section; a later one replaces an equal key.
   */
  addBootstrap(part: Partial<PipelineConfigInput>): void {
    Object.assign(this.bootstrap.routing, part.routing);
    Object.assign(this.bootstrap.writeOptions, part.writeOptions);
    Object.assign(this.bootstrap.models, part.models);
  }

  /** Lets a producer send config changes. */
  grantSendChanges(grantee: IGrantable): Grant {
    return this.changesQueue.grantSendMessages(grantee);
  }

  /** `SNAPSHOTS_TABLE`, `SNAPSHOT_NAME` and `GRANTED_TABLES`, as `snapshotReaderEnv()` reads them. */
  get readerEnvironment(): Record<string, string> {
    return {
      SNAPSHOTS_TABLE: this.table.tableName,
      SNAPSHOT_NAME: this.snapshotName,
      GRANTED_TABLES: this.grantedTablesJson(),
    };
  }

  /** `GRANTED_TABLES`: rendered at synth, so tables declared after a reader was bound count. */
  private grantedTablesJson(): string {
    return Lazy.string({ produce: () => Stack.of(this).toJsonString(this.granted) });
  }

  private bootstrapJson(): string {
    return Lazy.string({ produce: () => Stack.of(this).toJsonString(this.bootstrap) });
  }

  /** Makes `fn` a snapshot reader: read access and the environment `snapshotReaderEnv()` expects. */
  bindReader(fn: LambdaFunction): Grant {
    for (const [name, value] of Object.entries(this.readerEnvironment)) fn.addEnvironment(name, value);
    return this.grantRead(fn);
  }

  private createPublisher(props: SnapshotsProps, timeout: Duration): PipelineFunction {
    // An explicit role instead of the default one, whose AWS managed policy would let the
    // function write to any log group.
    const role = new Role(this, 'PublisherRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Snapshot publisher: applies queued config changes and publishes snapshot versions',
    });
    const fn = new PipelineFunction(this, 'Publisher', {
      description: 'Publishes one configuration snapshot version per batch of config changes',
      handlerFile: 'functions/snapshot-publisher/handler.ts',
      serviceName: SNAPSHOT_PUBLISHER_SERVICE,
      metricsNamespace: this.metricsNamespace,
      logLevel: props.logLevel,
      timeout,
      memorySize: props.memoryMiB ?? publisherSettings.memoryMiB,
      role,
      logGroup: this.logGroup,
      environment: {
        SNAPSHOTS_TABLE: this.table.tableName,
        SNAPSHOT_NAME: this.snapshotName,
        DLQ_URL: this.changesDeadLetterQueue.queueUrl,
        MAX_PUBLISH_ATTEMPTS: String(publisherSettings.maxAttempts),
        GRANTED_TABLES: this.grantedTablesJson(),
        BOOTSTRAP_CONFIG: this.bootstrapJson(),
      },
    });
    this.logGroup.grantWrite(role);
    // What the change path sends: GetItem (pointer, manifest, chunks), UpdateItem (version
    // sequence), BatchWriteItem (chunks, and deleting a losing version's chunks), PutItem (manifest),
    // and transactions of Put/Delete/ConditionCheck (pointer flip, deleting a losing manifest).
    // No Query: only listing and pruning versions query, from the operator's CLI.
    this.table.grant(
      role,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
    );
    // Rejected changes go straight to the DLQ, with their reason.
    this.changesDeadLetterQueue.grant(role, 'sqs:SendMessage');
    return fn;
  }
}
