import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
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
  readonly alarmTopic: AlarmTopic;

  constructor(scope: Construct, id: string, props: WritePathStackProps = {}) {
    super(scope, id, {
      description:
        'Batch-write pipeline: SQS ingest queue → batch-writer Lambda → DynamoDB, and its configuration snapshots',
      ...props,
    });
    this.writePath = new WritePath(this, 'WritePath', props.writePath);
    this.snapshots = new Snapshots(this, 'Snapshots', props.snapshots);
    this.writePath.useSnapshots(this.snapshots);
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { displayName: 'Batch-write pipeline alarms' });
    this.alarmTopic.notify(...this.writePath.alarms, this.snapshots.deadLetterAlarm);

    new CfnOutput(this, 'TableName', { value: this.writePath.table.tableName });
    new CfnOutput(this, 'IngestQueueUrl', { value: this.writePath.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.writePath.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn });
    new CfnOutput(this, 'GrantedTableNames', {
      description: 'Tables a config snapshot may route to: `pipeline snapshot --granted-tables <this>`',
      value: Fn.join(',', this.writePath.grantedTableNames),
    });
    new CfnOutput(this, 'SnapshotsTableName', { value: this.snapshots.table.tableName });
    new CfnOutput(this, 'ConfigChangesQueueUrl', { value: this.snapshots.changesQueue.queueUrl });
    new CfnOutput(this, 'ConfigChangesDeadLetterQueueUrl', {
      value: this.snapshots.changesDeadLetterQueue.queueUrl,
    });
  }
}
