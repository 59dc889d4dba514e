import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { WritePath, type WritePathProps } from '../constructs/write-path.ts';

export interface WritePathStackProps extends StackProps {
  /** Passed through to the `WritePath` construct. @default the construct's defaults */
  readonly writePath?: WritePathProps;
}

/** The deployable write path: the `WritePath` construct, a topic for its alarms, its endpoints as outputs. */
export class WritePathStack extends Stack {
  readonly writePath: WritePath;
  readonly alarmTopic: AlarmTopic;

  constructor(scope: Construct, id: string, props: WritePathStackProps = {}) {
    super(scope, id, {
      description: 'Batch-write pipeline: SQS ingest queue → batch-writer Lambda → DynamoDB',
      ...props,
    });
    this.writePath = new WritePath(this, 'WritePath', props.writePath);
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { displayName: 'Batch-write pipeline alarms' });
    this.alarmTopic.notify(...this.writePath.alarms);

    new CfnOutput(this, 'TableName', { value: this.writePath.table.tableName });
    new CfnOutput(this, 'IngestQueueUrl', { value: this.writePath.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.writePath.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn });
  }
}
