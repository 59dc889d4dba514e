import { Stack } from 'aws-cdk-lib';
import type { AlarmBase } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Shown as the sender of e-mail and SMS notifications. @default no display name */
  readonly displayName?: string;
}

/**
 * An SNS topic for CloudWatch alarm notifications: encrypted with a customer-managed KMS key
 * (rotated yearly) and refusing publishes that do not use TLS.
 *
 * A customer-managed key, because CloudWatch cannot publish to a topic encrypted with the
 * AWS-managed `aws/sns` key: its key policy cannot grant CloudWatch `kms:GenerateDataKey*`.
 */
export class AlarmTopic extends Construct {
  readonly topic: Topic;
  readonly key: Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    this.key = new Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'Encrypts the alarm topic; CloudWatch alarms may use it to publish',
    });
    this.key.grant(cloudWatch, 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', {
      masterKey: this.key,
      enforceSSL: true,
      ...(props.displayName === undefined ? {} : { displayName: props.displayName }),
    });
    // The topic policy CDK writes replaces SNS's default one, so CloudWatch needs an explicit
    // allow; the conditions stop another account's alarms from publishing here.
    const { account, region, partition } = Stack.of(this);
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
  }

  /** Notifies the topic when the alarm goes into ALARM and when it returns to OK. */
  notify(...alarms: AlarmBase[]): void {
    const action = new SnsAction(this.topic);
    for (const alarm of alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}
