import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { InstanceType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuWorkerService } from '../../infra/constructs/gpu-worker-service.ts';
import { addNagChecks } from '../../infra/nag.ts';
import { GpuInferenceStack } from '../../infra/stacks/gpu-inference-stack.ts';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import { actionsOn, arnOf, logicalIdOf, statementsOfRole, testContext } from './support.ts';

let app: App;
let stack: GpuInferenceStack;
let template: Template;

beforeAll(() => {
  app = new App({ context: testContext });
  addNagChecks(app);
  stack = new GpuInferenceStack(app, 'GpuInference');
  template = Template.fromStack(stack);
});

describe('GpuInferenceStack', () => {
  it('synthesises with no unacknowledged cdk-nag finding', () => {
    // Act & Assess
    expect(() => app.synth()).not.toThrow();
  });

  it('runs the worker container with one GPU, awsvpc networking and a readiness health check', () => {
    // Assess
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['EC2'],
      ContainerDefinitions: [
        Match.objectLike({
          ResourceRequirements: [{ Type: 'GPU', Value: '1' }],
          StopTimeout: inferenceSettings.worker.stopTimeoutSeconds,
          HealthCheck: Match.objectLike({
            Command: ['CMD-SHELL', `test -f ${inferenceSettings.worker.readyFile} || exit 1`],
          }),
        }),
      ],
    });
  });

  it('launches g5.xlarge instances from the ECS GPU-optimised Amazon Linux 2023 AMI with IMDSv2 required', () => {
    // Assess
    const parameters = template.toJSON().Parameters as Record<string, { Default?: string }>;
    const ami = Object.entries(parameters).find(([, p]) =>
      p.Default?.includes('/ecs/optimized-ami/amazon-linux-2023/gpu/'),
    );
    expect(ami?.[1].Default).toBe(
      '/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id',
    );
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        ImageId: { Ref: ami?.[0] },
        InstanceType: 'g5.xlarge',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })],
      }),
    });
  });

  it('takes the instance type as a prop', () => {
    // Prepare
    const other = new GpuInferenceStack(new App({ context: testContext }), 'Other', {
      instanceType: new InstanceType('g6.2xlarge'),
      maxInstances: 4,
    });
    // Act
    const otherTemplate = Template.fromStack(other);
    // Assess
    otherTemplate.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'g6.2xlarge' }),
    });
    otherTemplate.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', MaxSize: '4' });
  });

  it('scales the instances from a minimum of 0 through a capacity provider with managed scaling', () => {
    // Assess
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0' });
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED' }),
        ManagedTerminationProtection: 'ENABLED',
      }),
    });
  });

  it('leaves the desired count out of the template, so a deploy never resets the running tasks', () => {
    // Prepare
    const [capacityProvider] = Object.keys(template.findResources('AWS::ECS::CapacityProvider'));
    // Assess
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: Match.absent(),
      CapacityProviderStrategy: [Match.objectLike({ CapacityProvider: { Ref: capacityProvider } })],
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      MaxCapacity: 2,
    });
  });

  it('creates the service only after the cluster has its capacity provider association', () => {
    // Prepare
    const [association] = Object.keys(
      template.findResources('AWS::ECS::ClusterCapacityProviderAssociations'),
    );
    const service = template.toJSON().Resources[logicalIdOf(stack.workers.service)];
    // Assess
    expect(association).toBeDefined();
    expect(service.DependsOn).toContain(association);
  });

  it('lets Application Auto Scaling use its ECS service-linked role instead of a role of its own', () => {
    // Assess
    const roles = Object.values(template.findResources('AWS::IAM::Role')).map((r) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument),
    );
    expect(roles.filter((doc) => doc.includes('application-autoscaling.amazonaws.com'))).toEqual([]);
    const target = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget'))[0];
    expect(JSON.stringify(target?.Properties.RoleARN)).toContain(
      ':role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService',
    );
  });

  it('scales out from zero at 1 message of backlog, counting in-flight messages, and has no CPU scaling', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalIdOf(stack.workers.node.findChild('ScaleOut')) }],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'visible + inflight' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesVisible' }),
          }),
        }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesNotVisible' }),
          }),
        }),
      ]),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ExactCapacity',
        StepAdjustments: Match.arrayWith([
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 99, ScalingAdjustment: 1 },
        ]),
      }),
    });
    expect(
      template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', {
        Properties: { PolicyType: 'TargetTrackingScaling' },
      }),
    ).toEqual({});
  });

  it('scales in to zero only after gpu-work was observed empty for 5 minutes while tasks ran', () => {
    // Prepare
    const alarm = template.toJSON().Resources[logicalIdOf(stack.workers.idleAlarm)].Properties;
    const expressions = alarm.Metrics.filter((m: { Expression?: string }) => m.Expression).map(
      (m: { Expression: string }) => m.Expression,
    );
    // Assess
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: logicalIdOf(stack.workers.node.findChild('ScaleIn')) }],
    });
    expect(expressions.join(' ')).toContain('(tasks > 0) AND (visible == 0) AND (inflight == 0)');
    expect(expressions.join(' ')).not.toContain('FILL');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: logicalIdOf(stack.workers.node.findChild('ScaleIn')) }],
      Metrics: Match.arrayWith([
        Match.objectLike({
          Id: 'tasks',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'ECS/ContainerInsights', MetricName: 'DesiredTaskCount' }),
            Stat: 'Maximum',
          }),
        }),
      ]),
    });
  });

  it('keeps gpu-work messages invisible longer than the longest batch', () => {
    // Assess
    const queue = template.toJSON().Resources[logicalIdOf(stack.workQueue)].Properties;
    expect(queue.VisibilityTimeout).toBeGreaterThan(inferenceSettings.worker.maxBatchDurationMs / 1000);
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(inferenceSettings.workQueue.maxReceiveCount);
  });

  it('lets the task role use only its queue, its table and its own task protection', () => {
    // Prepare
    const role = stack.workers.taskDefinition.taskRole;
    const statements = statementsOfRole(template, logicalIdOf(role));
    // Assess
    expect(statements.map((s) => s.Resource)).toHaveLength(3);
    expect(actionsOn(statements, arnOf(logicalIdOf(stack.workQueue)))).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:ReceiveMessage',
    ]);
    expect(actionsOn(statements, arnOf(logicalIdOf(stack.jobsTable)))).toEqual(['dynamodb:PutItem']);
    const protection = statements.find((s) => JSON.stringify(s.Action).includes('TaskProtection'));
    expect(protection?.Action).toEqual('ecs:UpdateTaskProtection');
    expect(JSON.stringify(protection?.Resource)).toContain(
      `":task/",{"Ref":"${logicalIdOf(stack.workers.cluster)}"},"/*"`,
    );
  });

  it('lets the dispatcher raise the service from zero, and tells it which service', () => {
    // Prepare
    const statements = statementsOfRole(template, logicalIdOf(stack.dispatcher.function.role!));
    // Assess
    expect(actionsOn(statements, { Ref: logicalIdOf(stack.workers.service) })).toEqual([
      'ecs:DescribeServices',
      'ecs:UpdateService',
    ]);
    expect(actionsOn(statements, arnOf(logicalIdOf(stack.jobsTable)))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
    ]);
    const workQueueArn = JSON.stringify(arnOf(logicalIdOf(stack.workQueue)));
    const onWorkQueue = statements.filter((s) =>
      [s.Resource].flat().some((r) => JSON.stringify(r) === workQueueArn),
    );
    expect(onWorkQueue.flatMap((s) => [s.Action].flat())).toEqual(['sqs:SendMessage']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ECS_CLUSTER: { Ref: logicalIdOf(stack.workers.cluster) },
          ECS_SERVICE: Match.anyValue(),
          WORK_QUEUE_URL: { Ref: logicalIdOf(stack.workQueue) },
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets the container instances do only what the ECS agent does: no CloudWatch Logs on *', () => {
    // Prepare
    const role = stack.workers.autoScalingGroup.role;
    const statements = statementsOfRole(template, logicalIdOf(role));
    // Assess
    expect(actionsOn(statements, arnOf(logicalIdOf(stack.workers.cluster)))).toEqual([
      'ecs:DeregisterContainerInstance',
      'ecs:RegisterContainerInstance',
      'ecs:Submit*',
    ]);
    expect(actionsOn(statements, '*')).toEqual([
      'ecr:GetAuthorizationToken',
      'ecs:DiscoverPollEndpoint',
      'ecs:Poll',
      'ecs:StartTelemetrySession',
    ]);
    expect(statements.find((s) => JSON.stringify(s.Action).includes('ecs:Poll'))?.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': arnOf(logicalIdOf(stack.workers.cluster)) },
    });
    expect(JSON.stringify(statements)).not.toContain('logs:');
  });

  it('notifies the alarm topic when a message dead-letters, and keeps dead letters 14 days', () => {
    // Prepare
    const topic = logicalIdOf(stack.alarmTopic.topic);
    // Assess
    for (const queue of [stack.workDeadLetterQueue, stack.dispatcher.deadLetterQueue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(queue), 'QueueName'] } }],
        AlarmActions: [{ Ref: topic }],
        OKActions: [{ Ref: topic }],
      });
      expect(template.toJSON().Resources[logicalIdOf(queue)].Properties.MessageRetentionPeriod).toBe(
        14 * 24 * 3600,
      );
    }
  });

  it('outputs the jobs table, the queues and their DLQs, and the alarm topic', () => {
    // Assess
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs).toMatchObject({
      JobsTableName: { Value: { Ref: logicalIdOf(stack.jobsTable) } },
      InferenceRequestsQueueUrl: { Value: { Ref: logicalIdOf(stack.dispatcher.requestsQueue) } },
      InferenceRequestsDeadLetterQueueUrl: { Value: { Ref: logicalIdOf(stack.dispatcher.deadLetterQueue) } },
      GpuWorkQueueUrl: { Value: { Ref: logicalIdOf(stack.workQueue) } },
      GpuWorkDeadLetterQueueUrl: { Value: { Ref: logicalIdOf(stack.workDeadLetterQueue) } },
      AlarmTopicArn: { Value: { Ref: logicalIdOf(stack.alarmTopic.topic) } },
    });
  });

  it('keeps the workers in private subnets with endpoints for DynamoDB, S3, SQS, ECR and Logs', () => {
    // Assess
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((r) =>
      JSON.stringify(r.Properties.ServiceName),
    );
    for (const service of ['dynamodb', 's3', 'sqs', 'ecr.api', 'ecr.dkr', 'logs']) {
      expect(endpoints.some((name) => name.includes(`.${service}`))).toBe(true);
    }
  });

  it('refuses a batch duration that the gpu-work visibility timeout would not cover', () => {
    // Prepare
    const scope = new Stack(new App({ context: testContext }), 'Bad');
    const workQueue = new Queue(scope, 'Work', { visibilityTimeout: Duration.seconds(60) });
    const jobsTable = new Table(scope, 'Jobs', {
      partitionKey: { name: 'jobId', type: AttributeType.STRING },
    });
    const vpc = new Vpc(scope, 'Vpc');
    // Act & Assess
    expect(
      () =>
        new GpuWorkerService(scope, 'Workers', {
          vpc,
          workQueue,
          jobsTable,
          maxBatchDuration: Duration.seconds(90),
        }),
    ).toThrow(
      'GpuWorkerService maxBatchDuration is 1 minute 30 seconds; keep it below the gpu-work visibility timeout (60 s)',
    );
  });
});
