import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  BATCH_WRITER_METRICS,
  BATCH_WRITER_SERVICE,
  ROLLOUT_CONTROLLER_SERVICE,
  SNAPSHOT_PUBLISHER_METRICS,
  SNAPSHOT_PUBLISHER_SERVICE,
} from '../../shared/pipeline/metric-names.ts';
import { SNAPSHOT_READER_METRICS, SNAPSHOT_ROLLOUT_METRICS } from '../../shared/snapshots/index.ts';
import { WRITE_BATCHER_METRICS } from '../../shared/write-batcher/index.ts';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { PipelineDashboard } from '../constructs/dashboard.ts';
import {
  BATCH_WRITER_LAYOUT,
  SNAPSHOT_PUBLISHER_LAYOUT,
  SNAPSHOT_READER_LAYOUT,
  SNAPSHOT_ROLLOUT_LAYOUT,
  WRITE_BATCHER_LAYOUT,
} from '../constructs/dashboard-layouts.ts';
import { RolloutController } from '../constructs/rollout-controller.ts';
import { Snapshots, type SnapshotsProps } from '../constructs/snapshots.ts';
import { WritePath, type WritePathProps } from '../constructs/write-path.ts';

export interface WritePathStackProps extends StackProps {
  /** Passed through to the `WritePath` construct. @default the construct's defaults */
  readonly writePath?: WritePathProps;
  /** Passed through to the `Snapshots` construct. @default the construct's defaults */
  readonly snapshots?: SnapshotsProps;
}

/**
 * The deployable write path: the `WritePath` construct, the config `Snapshots` it follows, a topic
 * for their alarms, and their endpoints as outputs.
 *
 * Both live in one stack because each needs the other: the batch writer reads the snapshots table,
 * and the publisher needs the write path's granted tables and bootstrap routing. Across two stacks
 * that would be a cycle of exports.
 */
export class WritePathStack extends Stack {
  readonly writePath: WritePath;
  readonly snapshots: Snapshots;
  /** Moves automated rollouts of the pipeline snapshot; rollouts may name the write path's alarms. */
  readonly rolloutController: RolloutController;
  readonly alarmTopic: AlarmTopic;
  /** Ingest traffic and backlog, the batch writer, its writes and config snapshots on one dashboard. */
  readonly dashboard: PipelineDashboard;

  constructor(scope: Construct, id: string, props: WritePathStackProps = {}) {
    super(scope, id, {
      description:
        'Batch-write pipeline: SQS ingest queue → batch-writer Lambda → DynamoDB, and its configuration snapshots',
      ...props,
    });
    this.writePath = new WritePath(this, 'WritePath', props.writePath);
    this.snapshots = new Snapshots(this, 'Snapshots', props.snapshots);
    this.writePath.useSnapshots(this.snapshots);
    this.rolloutController = new RolloutController(this, 'RolloutController', {
      snapshots: this.snapshots,
      alarms: this.writePath.alarms,
      metricsNamespace: this.snapshots.metricsNamespace,
    });
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { displayName: 'Batch-write pipeline alarms' });
    this.alarmTopic.notify(
      ...this.writePath.alarms,
      this.snapshots.deadLetterAlarm,
      this.rolloutController.errorsAlarm,
    );
    this.dashboard = this.createDashboard();

    new CfnOutput(this, 'TableName', { value: this.writePath.table.tableName });
    new CfnOutput(this, 'IngestQueueUrl', { value: this.writePath.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.writePath.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn });
    new CfnOutput(this, 'GrantedTableNames', {
      description: 'Tables a config snapshot may route to: `pipeline snapshot --granted-tables <this>`',
      value: Fn.join(',', this.writePath.grantedTableNames),
    });
    new CfnOutput(this, 'SnapshotsTableName', { value: this.snapshots.table.tableName });
    new CfnOutput(this, 'RolloutAlarmNames', {
      description:
        'Alarms an automated rollout may name: `pipeline snapshot publish … --alarm <one of these>`',
      value: Fn.join(',', this.rolloutController.alarmNames),
    });
    new CfnOutput(this, 'ConfigChangesQueueUrl', { value: this.snapshots.changesQueue.queueUrl });
    new CfnOutput(this, 'ConfigChangesDeadLetterQueueUrl', {
      value: this.snapshots.changesDeadLetterQueue.queueUrl,
    });
  }

  private createDashboard(): PipelineDashboard {
    const { writePath, snapshots, rolloutController } = this;
    const dashboard = new PipelineDashboard(this, 'Dashboard');
    const batchWriter = { namespace: writePath.metricsNamespace, service: BATCH_WRITER_SERVICE };
    dashboard.addSection('Ingest', 'SQS ingest queue → batch-writer Lambda (its event source) → DynamoDB');
    dashboard.addQueue('ingest', writePath.queue, writePath.deadLetterQueue);
    if (writePath.eventSourceMetrics)
      dashboard.addEventSourceMetrics('ingest event source', writePath.eventSourceMapping);
    dashboard.addFunction('batch writer', writePath.batchWriter);
    dashboard.addSection(
      'Writes',
      'What the batch writer and its WriteBatcher count (EMF, dimension `service`)',
    );
    dashboard.addAppMetrics({
      label: 'batch writer',
      ...batchWriter,
      names: BATCH_WRITER_METRICS,
      layout: BATCH_WRITER_LAYOUT,
    });
    dashboard.addAppMetrics({
      label: 'batch writer',
      ...batchWriter,
      names: WRITE_BATCHER_METRICS,
      layout: WRITE_BATCHER_LAYOUT,
    });
    dashboard.addSection(
      'Config snapshots',
      'The version each reader serves, its refresh failures, and the config-changes publisher',
    );
    dashboard.addAppMetrics({
      label: 'batch writer',
      ...batchWriter,
      names: SNAPSHOT_READER_METRICS,
      layout: SNAPSHOT_READER_LAYOUT,
    });
    dashboard.addLogQuery(
      'batch writer: config snapshot version served',
      [writePath.logGroup],
      BATCH_WRITER_SNAPSHOT_VERSION_QUERY,
    );
    dashboard.addQueue('config changes', snapshots.changesQueue, snapshots.changesDeadLetterQueue);
    dashboard.addFunction('snapshot publisher', snapshots.publisher);
    dashboard.addAppMetrics({
      label: 'snapshot publisher',
      namespace: snapshots.metricsNamespace,
      service: SNAPSHOT_PUBLISHER_SERVICE,
      names: SNAPSHOT_PUBLISHER_METRICS,
      layout: SNAPSHOT_PUBLISHER_LAYOUT,
    });
    dashboard.addFunction('rollout controller', rolloutController.function);
    dashboard.addAppMetrics({
      label: 'rollout controller',
      namespace: rolloutController.metricsNamespace,
      service: ROLLOUT_CONTROLLER_SERVICE,
      names: SNAPSHOT_ROLLOUT_METRICS,
      layout: SNAPSHOT_ROLLOUT_LAYOUT,
    });
    return dashboard;
  }
}

/** The batch writer logs the version it routed each batch by (`batch processed`, `snapshotVersion`). */
const BATCH_WRITER_SNAPSHOT_VERSION_QUERY = [
  'filter ispresent(snapshotVersion)',
  'stats max(snapshotVersion) as newest, min(snapshotVersion) as oldest by bin(5m)',
];
