import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import {
  AttributeType,
  BillingMode,
  type ITable,
  Table,
  TableEncryption,
  type WarmThroughput,
} from 'aws-cdk-lib/aws-dynamodb';
import { type Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type EventSourceMapping, MetricType, Tracing } from 'aws-cdk-lib/aws-lambda';
import type { SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_TABLE } from '../../shared/contract/index.ts';
import { BATCH_WRITER_SERVICE } from '../../shared/pipeline/metric-names.ts';
import { type RoutesConfig, RoutesSchema } from '../../shared/pipeline/routing.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import { ConflictingPropsError, InvalidPropError } from './errors.ts';
import { PipelineFunction } from './pipeline-function.ts';
import { deadLetterAlarm } from './queue-alarms.ts';
import { SecureQueue } from './secure-queue.ts';
import type { Snapshots } from './snapshots.ts';
import { type TraceExportProps, traceExportEnvironment } from './trace-export.ts';

const {
  table: tableSettings,
  function: fnSettings,
  eventSource: esSettings,
  queue: queueSettings,
} = writePathSettings;

/** FIFO event sources take at most 10 records per batch and no batching window. */
const FIFO_MAX_BATCH_SIZE = 10;

/** AWS's limits for SQS event sources in provisioned mode (CloudFormation's `ProvisionedPollerConfig`). */
const SQS_POLLERS = { minimum: { low: 2, high: 200 }, maximum: { low: 2, high: 2000 } } as const;

export type WritePathLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** The event source's provisioned mode: dedicated pollers between `minimum` and `maximum`. */
export interface WritePathProvisionedPollers {
  /** Pollers kept even while the queue is empty (2..200). @default 2, the fewest AWS allows for SQS */
  readonly minimum?: number;
  /**
   * Pollers Lambda may scale up to (2..2000, at least `minimum`). Each drives up to 10 concurrent
   * invocations, so this is what bounds concurrency in provisioned mode. Required: AWS's default of
   * 200 (up to 2,000 invocations) is far past what the write path's tables are sized for.
   */
  readonly maximum: number;
}

export interface WritePathProps {
  /**
   * FIFO ingest queue and DLQ (see `SecureQueue`); the event source then takes at most 10 records
   * per batch and no batching window.
   * @default false
   */
  readonly fifo?: boolean;
  /** Lambda timeout. @default Duration.seconds(writePathSettings.function.timeoutSeconds) (60 s) */
  readonly timeout?: Duration;
  /** Lambda memory (it also buys CPU). @default writePathSettings.function.memoryMiB (1024) */
  readonly memoryMiB?: number;
  /**
   * DynamoDB requests in flight at once per invocation (`MAX_CONCURRENCY`, 1..256).
   * @default writePathSettings.function.maxConcurrency (8)
   */
  readonly writeConcurrency?: number;
  /**
   * The WriteBatcher stops retrying this long before the Lambda deadline (`DEADLINE_MARGIN_MS`).
   * @default Duration.millis(writePathSettings.function.deadlineMarginMs) (1.5 s)
   */
  readonly deadlineMargin?: Duration;
  /**
   * Records per invocation.
   * @default writePathSettings.eventSource.batchSize (1000); FIFO: 10, the most FIFO allows
   */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers records before invoking (needed for batches over 10). Not allowed
   * with `fifo`.
   * @default Duration.seconds(writePathSettings.eventSource.maxBatchingWindowSeconds) (1 s); FIFO: none
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Most concurrent invocations the event source drives (2..1000).
   * @default writePathSettings.eventSource.maxConcurrency (10)
   */
  readonly maxConcurrency?: number;
  /**
   * Provisioned mode of the event source: Lambda keeps dedicated pollers ready (faster scaling,
   * more throughput), billed per poller-hour. AWS allows no maximum concurrency with it, so setting
   * `maxConcurrency` too is rejected; `provisionedPollers.maximum` bounds concurrency instead.
   * @default none: standard mode, Lambda scales its pollers itself, bounded by `maxConcurrency`
   */
  readonly provisionedPollers?: WritePathProvisionedPollers;
  /**
   * The event source's `EventCount` metrics (AWS/Lambda per `EventSourceMappingUUID`: polled,
   * invoked, failed, dropped and deleted events), billed as custom CloudWatch metrics.
   * @default false
   */
  readonly eventSourceMetrics?: boolean;
  /** Receives before SQS moves a message to the DLQ. @default writePathSettings.queue.maxReceiveCount (5) */
  readonly maxReceiveCount?: number;
  /**
   * Ingest queue visibility timeout; at least 6 × `timeout` (AWS's guidance: throttled retries
   * must not make a record visible again while its batch may still be running).
   * @default the larger of writePathSettings.queue.visibilityTimeoutSeconds (360 s) and 6 × `timeout`
   */
  readonly visibilityTimeout?: Duration;
  /** `POWERTOOLS_METRICS_NAMESPACE`. @default 'BatchWritePipeline' */
  readonly metricsNamespace?: string;
  /** `POWERTOOLS_LOG_LEVEL`. @default 'INFO' */
  readonly logLevel?: WritePathLogLevel;
  /** Retention of the function's log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** X-Ray tracing of the function. @default Tracing.DISABLED */
  readonly tracing?: Tracing;
  /**
   * OpenTelemetry traces of the batch writer (one span per batch, linked to each message's trace)
   * to this OTLP endpoint. @default none: no OTEL_* variable, no span
   */
  readonly traceExport?: TraceExportProps;
  /** The backlog alarm fires when the ingest queue's oldest message is this old. @default 5 minutes */
  readonly oldestMessageAgeThreshold?: Duration;
  /**
   * What happens to the table when it leaves the stack; RETAIN also turns on deletion protection.
   * @default RemovalPolicy.RETAIN
   */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /**
   * Pre-warm the items table for a launch: the reads and writes per second it takes at once.
   * On-demand tables start at 4,000 writes and 12,000 reads per second; a value below those is
   * rejected (warm throughput can only be raised). Billed once per increase.
   * @default none: the table starts with on-demand's initial throughput
   */
  readonly tableWarmThroughput?: WarmThroughput;
  /**
   * The other DynamoDB tables a config snapshot may route writes to, besides the write path's own
   * items table. The batch writer may write exactly these and the items table; a snapshot that routes
   * anywhere else is refused when published (`ROUTE_NOT_GRANTED`).
   * @default none: only the items table
   */
  readonly dataTables?: readonly ITable[];
  /**
   * How old the batch writer's config snapshot may get before it checks the pointer for a new
   * version (`SNAPSHOT_MAX_AGE_MS`; applies once `useSnapshots` binds it). A shorter one adopts
   * published changes sooner at one more GetItem per invocation.
   * @default the reader's, snapshotSettings.maxAgeMs (30 s)
   */
  readonly snapshotMaxAge?: Duration;
}

/**
 * The write path: an encrypted ingest queue with a DLQ, the batch-writer Lambda that applies the
 * queued writes through the WriteBatcher, and the DynamoDB table they land in, with alarms on the
 * DLQ depth and the ingest backlog's age.
 *
 * Alarms have no actions; pass `alarms` to an `AlarmTopic` (or add your own actions).
 *
 * @example
 * const writePath = new WritePath(this, 'WritePath', { maxConcurrency: 20 });
 * writePath.grantSendToIngest(producerRole);
 */
export class WritePath extends Construct {
  readonly table: Table;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly batchWriter: PipelineFunction;
  /** The batch writer's SQS event source on the ingest queue. */
  readonly eventSourceMapping: EventSourceMapping;
  /** Whether `eventSourceMapping` publishes its `EventCount` metrics (`eventSourceMetrics`). */
  readonly eventSourceMetrics: boolean;
  /** `POWERTOOLS_METRICS_NAMESPACE` of the batch writer. */
  readonly metricsNamespace: string;
  readonly logGroup: LogGroup;
  /** Fires as soon as one message sits in the DLQ (a permanent reject or an exhausted retry). */
  readonly deadLetterAlarm: Alarm;
  /** Fires when the ingest backlog's oldest message reaches `oldestMessageAgeThreshold`. */
  readonly oldestMessageAlarm: Alarm;
  /** The tables the batch writer may write: the items table, then `dataTables`. */
  readonly grantedTables: readonly ITable[];
  /** The bootstrap routing (`TABLE_ROUTES`): the logical table `items` on the items table. */
  readonly routes: RoutesConfig;
  private readonly writeOptions: { readonly maxConcurrency: number; readonly deadlineMarginMs: number };

  constructor(scope: Construct, id: string, props: WritePathProps = {}) {
    super(scope, id);
    const fifo = props.fifo ?? false;
    const timeout = props.timeout ?? Duration.seconds(fnSettings.timeoutSeconds);
    const visibilityTimeout = props.visibilityTimeout ?? defaultVisibilityTimeout(timeout);
    checkVisibilityTimeout(visibilityTimeout, timeout);
    this.metricsNamespace = props.metricsNamespace ?? 'BatchWritePipeline';
    this.eventSourceMetrics = props.eventSourceMetrics ?? false;

    this.table = this.createTable(
      props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
      props.tableWarmThroughput,
    );
    this.grantedTables = [this.table, ...(props.dataTables ?? []).filter((t) => t !== this.table)];
    this.routes = this.defaultRoutes();
    this.writeOptions = resolveWriteOptions(props, timeout);
    const ingest = new SecureQueue(this, 'Ingest', {
      fifo,
      visibilityTimeout,
      maxReceiveCount: props.maxReceiveCount ?? queueSettings.maxReceiveCount,
    });
    this.queue = ingest.queue;
    this.deadLetterQueue = ingest.deadLetterQueue;

    this.logGroup = new LogGroup(this, 'BatchWriterLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    this.batchWriter = this.createFunction(props, timeout);
    this.eventSourceMapping = this.batchWriter.consume(this.queue, eventSourceProps(props, fifo));

    this.deadLetterAlarm = deadLetterAlarm(
      this,
      'DeadLetterAlarm',
      this.deadLetterQueue,
      'Messages are waiting in the write path DLQ: permanent rejects or exhausted retries.',
    );
    const ageThreshold = props.oldestMessageAgeThreshold ?? Duration.minutes(5);
    this.oldestMessageAlarm = new Alarm(this, 'OldestMessageAlarm', {
      alarmDescription: `The write path ingest backlog is at least ${ageThreshold.toHumanString()} old.`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: Stats.MAXIMUM,
      }),
      threshold: ageThreshold.toSeconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** Physical names of `grantedTables` (tokens until deploy), as `GRANTED_TABLES` carries them. */
  get grantedTableNames(): string[] {
    return this.grantedTables.map((table) => table.tableName);
  }

  /**
   * Makes the batch writer follow the `pipeline` config snapshot of `snapshots`: reader access and
   * environment, the granted tables as the only ones a route may name, and the batch writer's own
   * routing and write options as the bootstrap document the first version starts from.
   */
  useSnapshots(snapshots: Snapshots): void {
    snapshots.addGrantedTables(...this.grantedTableNames);
    snapshots.addBootstrap({ routing: this.routes, writeOptions: this.writeOptions });
    snapshots.bindReader(this.batchWriter);
  }

  /** The write path's alarms, e.g. for `AlarmTopic.notify(...writePath.alarms)`. */
  get alarms(): Alarm[] {
    return [this.deadLetterAlarm, this.oldestMessageAlarm];
  }

  /** Lets a producer send messages to the ingest queue. */
  grantSendToIngest(grantee: IGrantable): Grant {
    return this.queue.grantSendMessages(grantee);
  }

  /** Lets a reader (a service or an operator tool) read items from the table. */
  grantReadItems(grantee: IGrantable): Grant {
    return this.table.grantReadData(grantee);
  }

  private createTable(removalPolicy: RemovalPolicy, warmThroughput: WarmThroughput | undefined): Table {
    if (warmThroughput !== undefined) checkWarmThroughput(warmThroughput);
    return new Table(this, 'Table', {
      partitionKey: { name: tableSettings.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableSettings.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // AWS-managed key: encrypted at rest and audited in CloudTrail, with no key policy to keep
      // in step with every reader and writer.
      encryption: TableEncryption.AWS_MANAGED,
      // Tombstones left by versioned deletes expire through it.
      timeToLiveAttribute: tableSettings.ttlAttribute,
      removalPolicy,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      ...(warmThroughput === undefined ? {} : { warmThroughput }),
    });
  }

  private createFunction(props: WritePathProps, timeout: Duration): PipelineFunction {
    const { maxConcurrency, deadlineMarginMs } = this.writeOptions;
    // An explicit role instead of the default one, whose AWS managed policy would let the
    // function write to any log group.
    const role = new Role(this, 'BatchWriterRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Batch writer of the write path: consumes the ingest queue, writes the table',
    });
    const tracing = props.tracing ?? Tracing.DISABLED;
    const fn = new PipelineFunction(this, 'BatchWriter', {
      description: 'Applies queued writes to DynamoDB through the WriteBatcher',
      handlerFile: 'functions/batch-writer/handler.ts',
      serviceName: BATCH_WRITER_SERVICE,
      metricsNamespace: this.metricsNamespace,
      logLevel: props.logLevel,
      timeout,
      memorySize: props.memoryMiB ?? fnSettings.memoryMiB,
      role,
      logGroup: this.logGroup,
      tracing,
      environment: {
        TABLE_ROUTES: Stack.of(this).toJsonString(this.routes),
        DLQ_URL: this.deadLetterQueue.queueUrl,
        MAX_CONCURRENCY: String(maxConcurrency),
        DEADLINE_MARGIN_MS: String(deadlineMarginMs),
        ...(props.snapshotMaxAge === undefined
          ? {}
          : { SNAPSHOT_MAX_AGE_MS: String(props.snapshotMaxAge.toMilliseconds()) }),
        ...traceExportEnvironment('WritePath', props.traceExport, BATCH_WRITER_SERVICE),
      },
    });
    this.logGroup.grantWrite(role);
    // Exactly what the WriteBatcher sends: BatchWriteItem (puts and unversioned deletes) and
    // conditional puts (versioned writes, tombstones included) — TransactWriteItems of puts by
    // default, which IAM authorizes as dynamodb:PutItem per item, or one PutItem each. It never
    // calls DeleteItem.
    for (const table of this.grantedTables) table.grant(role, 'dynamodb:BatchWriteItem', 'dynamodb:PutItem');
    // Permanent rejects go straight to the DLQ.
    this.deadLetterQueue.grant(role, 'sqs:SendMessage');
    if (tracing !== Tracing.DISABLED) {
      Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions',
      });
    }
    return fn;
  }

  /** `TABLE_ROUTES` for the handler's Router, checked against its schema at synth time. */
  private defaultRoutes(): RoutesConfig {
    const routes: RoutesConfig = {
      [DEFAULT_TABLE]: {
        tableName: this.table.tableName,
        partitionKey: tableSettings.partitionKey,
        sortKey: tableSettings.sortKey,
        keyType: 'S',
        ops: ['put', 'delete'],
      },
    };
    return RoutesSchema.parse(routes);
  }
}

function resolveWriteOptions(
  props: WritePathProps,
  timeout: Duration,
): { maxConcurrency: number; deadlineMarginMs: number } {
  const maxConcurrency = props.writeConcurrency ?? fnSettings.maxConcurrency;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 256) {
    throw new InvalidPropError('WritePath', 'writeConcurrency', String(maxConcurrency), 'use 1..256');
  }
  const deadlineMargin = props.deadlineMargin ?? Duration.millis(fnSettings.deadlineMarginMs);
  if (deadlineMargin.toMilliseconds() >= timeout.toMilliseconds()) {
    throw new InvalidPropError(
      'WritePath',
      'deadlineMargin',
      deadlineMargin.toHumanString(),
      `keep it below the function timeout (${timeout.toHumanString()})`,
    );
  }
  return { maxConcurrency, deadlineMarginMs: deadlineMargin.toMilliseconds() };
}

/** On-demand tables start at these; warm throughput can only raise them. */
const ON_DEMAND_WARM = { writeUnitsPerSecond: 4000, readUnitsPerSecond: 12_000 } as const;

function checkWarmThroughput(warm: WarmThroughput): void {
  for (const name of ['writeUnitsPerSecond', 'readUnitsPerSecond'] as const) {
    const value = warm[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < ON_DEMAND_WARM[name]) {
      throw new InvalidPropError(
        'WritePath',
        `tableWarmThroughput.${name}`,
        String(value),
        `use an integer ≥ ${ON_DEMAND_WARM[name]}, what a new on-demand table already has`,
      );
    }
  }
}

function defaultVisibilityTimeout(timeout: Duration): Duration {
  return Duration.seconds(Math.max(queueSettings.visibilityTimeoutSeconds, 6 * timeout.toSeconds()));
}

function checkVisibilityTimeout(visibilityTimeout: Duration, timeout: Duration): void {
  if (visibilityTimeout.toSeconds() < 6 * timeout.toSeconds()) {
    throw new InvalidPropError(
      'WritePath',
      'visibilityTimeout',
      visibilityTimeout.toHumanString(),
      `make it at least 6 × the function timeout (${timeout.toHumanString()}): ${6 * timeout.toSeconds()} seconds`,
    );
  }
}

function eventSourceProps(props: WritePathProps, fifo: boolean): SqsEventSourceProps {
  const scaling = {
    reportBatchItemFailures: true,
    ...scalingProps(props),
    ...(props.eventSourceMetrics ? { metricsConfig: { metrics: [MetricType.EVENT_COUNT] } } : {}),
  };
  if (!fifo) {
    return {
      ...scaling,
      batchSize: props.batchSize ?? esSettings.batchSize,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(esSettings.maxBatchingWindowSeconds),
    };
  }
  const batchSize = props.batchSize ?? FIFO_MAX_BATCH_SIZE;
  if (batchSize > FIFO_MAX_BATCH_SIZE) {
    throw new InvalidPropError('WritePath', 'batchSize', String(batchSize), 'FIFO queues allow at most 10');
  }
  if (props.maxBatchingWindow !== undefined) {
    throw new InvalidPropError(
      'WritePath',
      'maxBatchingWindow',
      props.maxBatchingWindow.toHumanString(),
      'FIFO queues allow no batching window; leave it unset',
    );
  }
  return { ...scaling, batchSize };
}

/** Standard mode (`maxConcurrency`) or provisioned mode (`provisionedPollers`): never both. */
function scalingProps(
  props: WritePathProps,
): Pick<SqsEventSourceProps, 'maxConcurrency' | 'provisionedPollerConfig'> {
  const pollers = props.provisionedPollers;
  if (pollers === undefined) return { maxConcurrency: props.maxConcurrency ?? esSettings.maxConcurrency };
  if (props.maxConcurrency !== undefined) {
    throw new ConflictingPropsError(
      'WritePath',
      ['provisionedPollers', 'maxConcurrency'],
      `AWS allows no maximum concurrency in provisioned mode: leave maxConcurrency (${props.maxConcurrency}) unset and bound concurrency with provisionedPollers.maximum (each poller drives up to 10 invocations)`,
    );
  }
  const minimum = pollers.minimum ?? SQS_POLLERS.minimum.low;
  checkPollers('provisionedPollers.minimum', minimum, SQS_POLLERS.minimum);
  checkPollers('provisionedPollers.maximum', pollers.maximum, SQS_POLLERS.maximum);
  if (minimum > pollers.maximum) {
    throw new InvalidPropError(
      'WritePath',
      'provisionedPollers.minimum',
      String(minimum),
      `keep it at most provisionedPollers.maximum (${pollers.maximum})`,
    );
  }
  return { provisionedPollerConfig: { minimumPollers: minimum, maximumPollers: pollers.maximum } };
}

function checkPollers(prop: string, value: number, range: { low: number; high: number }): void {
  if (!Number.isInteger(value) || value < range.low || value > range.high) {
    throw new InvalidPropError(
      'WritePath',
      prop,
      String(value),
      `use ${range.low}..${range.high} (SQS event sources)`,
    );
  }
}
