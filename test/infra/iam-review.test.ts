import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import { roleGrants } from './support/role-grants.ts';
import { tempOutdir, testContext } from './support.ts';

/**
 * Every IAM role the app deploys and everything it may do, as reviewed: an action added to or
 * removed from any role fails this test until someone reviews the change and updates the list.
 * Each entry is an action the code path of that role calls (see the comment above it).
 */
const REVIEWED: Record<string, string[]> = {
  // batch writer: consumes ingest (Lambda pollers), writes the items table (BatchWriteItem, conditional PutItem), dead-letters rejects, reads the pipeline snapshot
  'WritePath/WritePath/BatchWriterRole': [
    'Allow dynamodb:BatchWriteItem on <WritePath/WritePath/Table.Arn>',
    'Allow dynamodb:GetItem on <WritePath/Snapshots/Table.Arn>',
    'Allow dynamodb:PutItem on <WritePath/WritePath/Table.Arn>',
    'Allow logs:CreateLogStream on <WritePath/WritePath/BatchWriterLogs.Arn>',
    'Allow logs:PutLogEvents on <WritePath/WritePath/BatchWriterLogs.Arn>',
    'Allow sqs:DeleteMessage on <WritePath/WritePath/Ingest/Queue.Arn>',
    'Allow sqs:GetQueueAttributes on <WritePath/WritePath/Ingest/Queue.Arn>',
    'Allow sqs:ReceiveMessage on <WritePath/WritePath/Ingest/Queue.Arn>',
    'Allow sqs:SendMessage on <WritePath/WritePath/Ingest/DeadLetterQueue.Arn>',
  ],
  // config publisher: consumes config changes; chunk batch writes, manifest puts, version counter updates, pointer flip transactions (Put/ConditionCheck), cleanup of a lost race (Delete); rejected changes to its DLQ
  'WritePath/Snapshots/PublisherRole': [
    'Allow dynamodb:BatchWriteItem on <WritePath/Snapshots/Table.Arn>',
    'Allow dynamodb:ConditionCheckItem on <WritePath/Snapshots/Table.Arn>',
    'Allow dynamodb:DeleteItem on <WritePath/Snapshots/Table.Arn>',
    'Allow dynamodb:GetItem on <WritePath/Snapshots/Table.Arn>',
    'Allow dynamodb:PutItem on <WritePath/Snapshots/Table.Arn>',
    'Allow dynamodb:UpdateItem on <WritePath/Snapshots/Table.Arn>',
    'Allow logs:CreateLogStream on <WritePath/Snapshots/PublisherLogs.Arn>',
    'Allow logs:PutLogEvents on <WritePath/Snapshots/PublisherLogs.Arn>',
    'Allow sqs:DeleteMessage on <WritePath/Snapshots/Changes/Queue.Arn>',
    'Allow sqs:GetQueueAttributes on <WritePath/Snapshots/Changes/Queue.Arn>',
    'Allow sqs:ReceiveMessage on <WritePath/Snapshots/Changes/Queue.Arn>',
    'Allow sqs:SendMessage on <WritePath/Snapshots/Changes/DeadLetterQueue.Arn>',
  ],
  // rollout controller: reads the pointer (GetItem) and flips it (transaction of Put + ConditionCheck of the versions it names); DescribeAlarms on exactly the alarms a rollout may name (the action supports the alarm resource type; only composite alarms would need *)
  'WritePath/RolloutController/Role': [
    'Allow cloudwatch:DescribeAlarms on <WritePath/WritePath/DeadLetterAlarm.Arn>',
    'Allow cloudwatch:DescribeAlarms on <WritePath/WritePath/OldestMessageAlarm.Arn>',
    'Allow dynamodb:ConditionCheckItem on <WritePath/Snapshots/Table.Arn>',
    'Allow dynamodb:GetItem on <WritePath/Snapshots/Table.Arn>',
    'Allow dynamodb:PutItem on <WritePath/Snapshots/Table.Arn>',
    'Allow logs:CreateLogStream on <WritePath/RolloutController/Logs.Arn>',
    'Allow logs:PutLogEvents on <WritePath/RolloutController/Logs.Arn>',
  ],
  // VPC flow logs delivery into its own log group
  'GpuInference/Network/Vpc/FlowLog/IAMRole': [
    'Allow logs:CreateLogStream on <GpuInference/Network/FlowLogs.Arn>',
    'Allow logs:DescribeLogStreams on <GpuInference/Network/FlowLogs.Arn>',
    'Allow logs:PutLogEvents on <GpuInference/Network/FlowLogs.Arn>',
  ],
  // CDK's custom resource that strips the default security group's rules (deploy time only)
  'GpuInference/Custom::VpcRestrictDefaultSGCustomResourceProvider/Role': [
    'Allow ec2:AuthorizeSecurityGroupEgress on arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/<GpuInference/Network/Vpc.DefaultSecurityGroup>',
    'Allow ec2:AuthorizeSecurityGroupIngress on arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/<GpuInference/Network/Vpc.DefaultSecurityGroup>',
    'Allow ec2:RevokeSecurityGroupEgress on arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/<GpuInference/Network/Vpc.DefaultSecurityGroup>',
    'Allow ec2:RevokeSecurityGroupIngress on arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/<GpuInference/Network/Vpc.DefaultSecurityGroup>',
    'managed arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
  ],
  // ECS container agent on the GPU instances (no logs: the task has an execution role)
  'GpuInference/Workers/InstanceRole': [
    'Allow ecr:GetAuthorizationToken on *',
    'Allow ecs:DeregisterContainerInstance on <GpuInference/Workers/Cluster.Arn>',
    'Allow ecs:DiscoverPollEndpoint on *',
    'Allow ecs:Poll on * if {ArnEquals: {ecs:cluster: <GpuInference/Workers/Cluster.Arn>}}',
    'Allow ecs:RegisterContainerInstance on <GpuInference/Workers/Cluster.Arn>',
    'Allow ecs:StartTelemetrySession on * if {ArnEquals: {ecs:cluster: <GpuInference/Workers/Cluster.Arn>}}',
    'Allow ecs:Submit* on <GpuInference/Workers/Cluster.Arn>',
  ],
  // GPU worker: receive/delete/extend gpu-work messages, version-guarded job records, its own scale-in protection
  'GpuInference/Workers/TaskDefinition/TaskRole': [
    'Allow dynamodb:PutItem on <GpuInference/JobsTable.Arn>',
    'Allow ecs:UpdateTaskProtection on arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<GpuInference/Workers/Cluster>/*',
    'Allow sqs:ChangeMessageVisibility on <GpuInference/GpuWork/Queue.Arn>',
    'Allow sqs:DeleteMessage on <GpuInference/GpuWork/Queue.Arn>',
    'Allow sqs:ReceiveMessage on <GpuInference/GpuWork/Queue.Arn>',
  ],
  // ECS pulls the worker image and ships its logs
  'GpuInference/Workers/TaskDefinition/ExecutionRole': [
    'Allow ecr:BatchCheckLayerAvailability on arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/cdk-hnb659fds-container-assets-<AWS::AccountId>-<AWS::Region>',
    'Allow ecr:BatchGetImage on arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/cdk-hnb659fds-container-assets-<AWS::AccountId>-<AWS::Region>',
    'Allow ecr:GetAuthorizationToken on *',
    'Allow ecr:GetDownloadUrlForLayer on arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/cdk-hnb659fds-container-assets-<AWS::AccountId>-<AWS::Region>',
    'Allow logs:CreateLogStream on <GpuInference/Workers/WorkerLogs.Arn>',
    'Allow logs:PutLogEvents on <GpuInference/Workers/WorkerLogs.Arn>',
  ],
  // dispatcher: consumes inference requests, job records (PutItem, BatchGetItem of finished duplicates), sends gpu-work, dead-letters bad requests, scales the service from zero, reads the pipeline snapshot
  'GpuInference/Dispatcher/DispatcherRole': [
    'Allow dynamodb:BatchGetItem on <GpuInference/JobsTable.Arn>',
    'Allow dynamodb:GetItem on <output PublishOutputFnGetAttSnapshotsTableAE12316EArnF551DCDD of stack WritePath>',
    'Allow dynamodb:PutItem on <GpuInference/JobsTable.Arn>',
    'Allow ecs:DescribeServices on <GpuInference/Workers/Service/Service>',
    'Allow ecs:UpdateService on <GpuInference/Workers/Service/Service>',
    'Allow logs:CreateLogStream on <GpuInference/Dispatcher/DispatcherLogs.Arn>',
    'Allow logs:PutLogEvents on <GpuInference/Dispatcher/DispatcherLogs.Arn>',
    'Allow sqs:DeleteMessage on <GpuInference/Dispatcher/Requests/Queue.Arn>',
    'Allow sqs:GetQueueAttributes on <GpuInference/Dispatcher/Requests/Queue.Arn>',
    'Allow sqs:ReceiveMessage on <GpuInference/Dispatcher/Requests/Queue.Arn>',
    'Allow sqs:SendMessage on <GpuInference/Dispatcher/Requests/DeadLetterQueue.Arn>',
    'Allow sqs:SendMessage on <GpuInference/GpuWork/Queue.Arn>',
  ],
};

describe('the IAM roles of the app', () => {
  const outdir = tempOutdir();

  it('grant exactly the reviewed actions on exactly the reviewed resources', () => {
    // Prepare
    const { app } = buildApp({ context: testContext, outdir });
    // Act
    const grants = roleGrants(app);
    // Assess
    expect(grants).toEqual(REVIEWED);
  });

  it('grant no wildcard action except the ECS agent state reports on its own cluster', () => {
    // Prepare
    const { app } = buildApp({ context: testContext, outdir });
    // Act
    const wildcards = Object.entries(roleGrants(app)).flatMap(([role, lines]) =>
      lines.filter((line) => /^Allow \S*\*/.test(line)).map((line) => `${role}: ${line}`),
    );
    // Assess
    expect(wildcards).toEqual([
      'GpuInference/Workers/InstanceRole: Allow ecs:Submit* on <GpuInference/Workers/Cluster.Arn>',
    ]);
  });
});
