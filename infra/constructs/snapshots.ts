import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SNAPSHOT_NAME_PATTERN, snapshotSettings } from '../../shared/snapshots/settings.ts';
import { InvalidPropError } from './errors.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { deadLetterAlarm } from './queue-alarms.ts';
import { SecureQueue } from './secure-queue.ts';

const { table: tableSettings, publisher: publisherSettings } = snapshotSettings;

/** Root of the repository: the esbuild project root and where package-lock.json lives. */

export type SnapshotsLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface SnapshotsProps {
  /** The snapshot that config changes apply to (`SNAPSHOT_NAME`). @default snapshotSettings.defaultName ('pipeline') */
  readonly snapshotName?: string;
  /** Publisher timeout. @default Duration.seconds(snapshotSettings.publisher.timeoutSeconds) (120 s) */
  readonly timeout?: Duration;
  /** Publisher memory (compressing large documents wants CPU). @default snapshotSettings.publisher.memoryMiB (1024) */
  readonly memoryMiB?: number;
  /**
   * Reserved concurrency of the publisher. One publisher at a time avoids conflict retries; the
   * conditional pointer flip keeps concurrent publishers safe without it. `null` removes it.
   * @default 1
   */
  readonly reservedConcurrency?: number | null;
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
 * Producers of changes must set a unique `MessageDeduplicationId` per change: the queue dedupes
 * identical bodies by content otherwise, and "set x=1" may legitimately be sent twice.
 *
 * @example
 * const snapshots = new Snapshots(this, 'Snapshots');
 * snapshots.bindReader(writePath.batchWriter);
 */
export class Snapshots extends Construct {
  readonly table: Table;
  readonly changesQueue: Queue;
  readonly changesDeadLetterQueue: Queue;
  readonly publisher: PipelineFunction;
  readonly logGroup: LogGroup;
  readonly snapshotName: string;
  /** Fires as soon as one config change sits in the DLQ. */
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: SnapshotsProps = {}) {
    super(scope, id);
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
    this.publisher.consume(this.changesQueue, {
      batchSize: publisherSettings.batchSize,
      reportBatchItemFailures: true,
    });

    this.deadLetterAlarm = deadLetterAlarm(
      this,
      'DeadLetterAlarm',
      this.changesDeadLetterQueue,
      'Config changes are waiting in the DLQ: rejected changes or exhausted retries.',
    );
  }

  /** Lets a reader load snapshots: strongly consistent GetItem of pointer, manifest and chunks; Query to list. */
  grantRead(grantee: IGrantable): Grant {
    return this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:Query');
  }

  /** Lets a producer send config changes. */
  grantSendChanges(grantee: IGrantable): Grant {
    return this.changesQueue.grantSendMessages(grantee);
  }

  /** `SNAPSHOTS_TABLE` and `SNAPSHOT_NAME`, as `snapshotReaderEnv()` reads them. */
  get readerEnvironment(): Record<string, string> {
    return { SNAPSHOTS_TABLE: this.table.tableName, SNAPSHOT_NAME: this.snapshotName };
  }

  /** Makes `fn` a snapshot reader: read access and the environment `snapshotReaderEnv()` expects. */
  bindReader(fn: LambdaFunction): Grant {
    for (const [name, value] of Object.entries(this.readerEnvironment)) fn.addEnvironment(name, value);
    return this.grantRead(fn);
  }

  private createPublisher(props: SnapshotsProps, timeout: Duration): PipelineFunction {
    const reserved = props.reservedConcurrency === undefined ? 1 : props.reservedConcurrency;
    if (reserved !== null && (!Number.isInteger(reserved) || reserved < 1)) {
      throw new InvalidPropError(
        'Snapshots',
        'reservedConcurrency',
        String(reserved),
        'use a whole number ≥ 1, or null',
      );
    }
    // An explicit role instead of the default one, whose AWS managed policy would let the
    // function write to any log group.
    const role = new Role(this, 'PublisherRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Snapshot publisher: applies queued config changes and publishes snapshot versions',
    });
    const fn = new PipelineFunction(this, 'Publisher', {
      description: 'Publishes one configuration snapshot version per batch of config changes',
      handlerFile: 'functions/snapshot-publisher/handler.ts',
      serviceName: 'snapshot-publisher',
      metricsNamespace: props.metricsNamespace ?? 'BatchWritePipeline',
      logLevel: props.logLevel,
      timeout,
      memorySize: props.memoryMiB ?? publisherSettings.memoryMiB,
      ...(reserved === null ? {} : { reservedConcurrentExecutions: reserved }),
      role,
      logGroup: this.logGroup,
      environment: {
        SNAPSHOTS_TABLE: this.table.tableName,
        SNAPSHOT_NAME: this.snapshotName,
        DLQ_URL: this.changesDeadLetterQueue.queueUrl,
        MAX_PUBLISH_ATTEMPTS: String(publisherSettings.maxAttempts),
      },
    });
    this.logGroup.grantWrite(role);
    // Versions: chunk batch writes, manifest puts, sequence updates, reads; the pointer flip and
    // prune run as transactions of Put/Delete/ConditionCheck.
    this.table.grant(
      role,
      'dynamodb:GetItem',
      'dynamodb:Query',
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
