import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { Snapshots, type SnapshotsProps } from '../constructs/snapshots.ts';

export interface SnapshotsStackProps extends StackProps {
  /** Passed through to the `Snapshots` construct. @default the construct's defaults */
  readonly snapshots?: SnapshotsProps;
}

/** The deployable snapshot store: the `Snapshots` construct, a topic for its alarm, and its endpoints as outputs. */
export class SnapshotsStack extends Stack {
  readonly snapshots: Snapshots;
  readonly alarmTopic: AlarmTopic;

  constructor(scope: Construct, id: string, props: SnapshotsStackProps = {}) {
    super(scope, id, {
      description:
        'Batch-write pipeline: configuration snapshots (table, config-changes queue, publisher Lambda)',
      ...props,
    });
    this.snapshots = new Snapshots(this, 'Snapshots', props.snapshots);
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { displayName: 'Configuration snapshot alarms' });
    this.alarmTopic.notify(this.snapshots.deadLetterAlarm);

    new CfnOutput(this, 'SnapshotsTableName', { value: this.snapshots.table.tableName });
    new CfnOutput(this, 'ConfigChangesQueueUrl', { value: this.snapshots.changesQueue.queueUrl });
    new CfnOutput(this, 'ConfigChangesDeadLetterQueueUrl', {
      value: this.snapshots.changesDeadLetterQueue.queueUrl,
    });
  }
}
