import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, FeatureFlags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type PipelineApp } from '../../infra/app.ts';
import { InvalidContextError } from '../../infra/constructs/errors.ts';
import { contextFlag } from '../../infra/context.ts';
import { arnOf, logicalIdOf, renderJoin, tempOutdir, testContext } from './support.ts';

// The whole app as `cdk synth` builds it, esbuild bundling included, with cdk-nag on: synthesised
// once, in beforeAll, because bundling is the slow part.
describe('the pipeline app', () => {
  const outdir = tempOutdir();
  let pipeline: PipelineApp;
  let assembly: CloudAssembly;
  let template: Template;

  beforeAll(() => {
    pipeline = buildApp({ outdir });
    assembly = pipeline.app.synth();
    template = Template.fromStack(pipeline.writePath);
  });

  it('synthesises with no unacknowledged cdk-nag findings', () => {
    // Act
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    // Assess
    expect(assembly.stacks.map((s) => s.stackName)).toContain('WritePath');
    const reports = report.pluginReports as {
      pluginName: string;
      conclusion: string;
      violations?: unknown[];
      suppressedViolations?: { reason: string }[];
    }[];
    expect(reports.filter((r) => r.conclusion !== 'success' || (r.violations ?? []).length > 0)).toEqual([]);
    const reasons = reports.flatMap((r) => r.suppressedViolations ?? []).map((v) => v.reason);
    expect(reasons.filter((reason) => reason.length < 40)).toEqual([]);
  });

  it('runs the Serverless rule pack beside AWS Solutions', () => {
    // Act
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    // Assess: the Serverless pack reports its acknowledged findings (e.g. SQS event sources have no on-failure destination)
    const serverless = report.pluginReports.find(
      (r: { pluginName: string }) => r.pluginName === 'Serverless',
    );
    expect(serverless?.conclusion).toBe('success');
    expect(serverless?.suppressedViolations.map((v: { ruleName: string }) => v.ruleName)).toContain(
      'Serverless-LambdaEventSourceMappingDestination',
    );
  });

  it('carries the recommended feature flags of cdk.json', () => {
    // Act
    const flag = FeatureFlags.of(pipeline.app).isEnabled(
      '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig',
    );
    // Assess
    expect(flag).toBe(true);
  });

  it('bundles the batch writer as minified ESM with a source map and a require shim', () => {
    // Prepare
    const fn = template.toJSON().Resources[logicalIdOf(pipeline.writePath.writePath.batchWriter)];
    const assetHash = String(fn?.Properties.Code.S3Key).replace(/\.zip$/, '');
    const assetDir = join(outdir, `asset.${assetHash}`);
    // Act
    const files = readdirSync(assetDir).sort();
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    // Assess
    expect(files).toEqual(['index.mjs', 'index.mjs.map']);
    expect(code.startsWith("import { createRequire } from 'module';")).toBe(true);
  });

  it('loads as an ES module on Node.js 24 and answers an empty batch', () => {
    // Prepare
    const fn = template.toJSON().Resources[logicalIdOf(pipeline.writePath.writePath.batchWriter)];
    const bundle = join(
      outdir,
      `asset.${String(fn?.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
      'index.mjs',
    );
    const invoke = `const { handler } = await import(${JSON.stringify(bundle)});
      const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'batch-writer', awsRequestId: 'r1' };
      process.stdout.write(JSON.stringify(await handler({ Records: [] }, context)));`;
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      TABLE_ROUTES: JSON.stringify({
        items: { tableName: 'items-table', partitionKey: 'pk', sortKey: 'sk' },
      }),
      DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_NAMESPACE: 'Test',
    };
    // Act
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', invoke], {
      env,
      encoding: 'utf8',
    });
    // Assess
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({ batchItemFailures: [] });
  });

  it('sends both write path alarms, the config-changes DLQ alarm and the rollout controller errors alarm, on alarm and on recovery, to the alarm topic', () => {
    // Prepare
    const topic = { Ref: logicalIdOf(pipeline.writePath.alarmTopic.topic) };
    // Act
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { AlarmActions: [topic], OKActions: [topic] },
    });
    // Assess
    expect(Object.keys(alarms).sort()).toEqual(
      [
        ...pipeline.writePath.writePath.alarms.map((a) => logicalIdOf(a)),
        logicalIdOf(pipeline.writePath.snapshots.deadLetterAlarm),
        logicalIdOf(pipeline.writePath.rolloutController.errorsAlarm),
      ].sort(),
    );
  });

  it('hands the publisher the granted tables and the bootstrap document: the items route, write options, models', () => {
    // Prepare
    const tableRef = `<Ref:${logicalIdOf(pipeline.writePath.writePath.table)}>`;
    const fn = template.toJSON().Resources[logicalIdOf(pipeline.writePath.snapshots.publisher)];
    const variables = fn.Properties.Environment.Variables;
    // Act
    const granted = JSON.parse(renderJoin(variables.GRANTED_TABLES));
    const bootstrap = JSON.parse(renderJoin(variables.BOOTSTRAP_CONFIG));
    // Assess
    expect(granted).toEqual([tableRef]);
    expect(bootstrap).toEqual({
      routing: {
        items: {
          tableName: tableRef,
          partitionKey: 'pk',
          sortKey: 'sk',
          keyType: 'S',
          ops: ['put', 'delete'],
        },
      },
      writeOptions: { maxConcurrency: 8, deadlineMarginMs: 1500 },
      models: { 'shelf-classifier': { version: '1' } },
    });
  });

  it('hands every snapshot reader the same granted tables: the batch writer and the dispatcher', () => {
    // Prepare
    const tableRef = `<Ref:${logicalIdOf(pipeline.writePath.writePath.table)}>`;
    const writer = template.toJSON().Resources[logicalIdOf(pipeline.writePath.writePath.batchWriter)];
    const gpu = Template.fromStack(pipeline.gpuInference!).toJSON();
    const dispatcher =
      gpu.Resources[
        pipeline.gpuInference!.getLogicalId(
          pipeline.gpuInference!.dispatcher.function.node.defaultChild as never,
        )
      ];
    // Act
    const fromWriter = JSON.parse(renderJoin(writer.Properties.Environment.Variables.GRANTED_TABLES));
    const fromDispatcher = JSON.stringify(dispatcher.Properties.Environment.Variables.GRANTED_TABLES);
    // Assess
    expect(fromWriter).toEqual([tableRef]);
    expect(fromDispatcher).toContain(logicalIdOf(pipeline.writePath.writePath.table));
    expect(pipeline.gpuInference!.dependencies.map((s) => s.stackName)).toEqual(['WritePath']);
  });

  it('encrypts the alarm topic with a rotated key that CloudWatch may use', () => {
    // Prepare
    const keyId = logicalIdOf(pipeline.writePath.alarmTopic.key);
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      });
    // Assess
    expect(act).not.toThrow();
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(keyId) });
  });

  it('denies publishing to the alarm topic without TLS and lets only this account’s alarms publish', () => {
    // Prepare
    const topic = { Ref: logicalIdOf(pipeline.writePath.alarmTopic.topic) };
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [topic],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Condition: Match.objectLike({
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              }),
            }),
          ]),
        },
      });
    // Assess
    expect(act).not.toThrow();
  });

  it('outputs the table name and the queue URLs for producers and operators', () => {
    // Act
    const outputs = Object.keys(template.findOutputs('*'))
      // CDK's own outputs for the GPU stack's references to this one.
      .filter((name) => !name.startsWith('PublishOutput'))
      .sort();
    // Assess
    expect(outputs).toEqual([
      'AlarmTopicArn',
      'ConfigChangesDeadLetterQueueUrl',
      'ConfigChangesQueueUrl',
      'DeadLetterQueueUrl',
      'GrantedTableNames',
      'IngestQueueUrl',
      'RolloutAlarmNames',
      'SnapshotsTableName',
      'TableName',
    ]);
  });
});

describe('stack composition', () => {
  it('deploys the GPU inference stack by default and leaves it out with -c gpu=false', () => {
    // Prepare
    const withGpu = buildApp({ outdir: tempOutdir() });
    const withoutGpu = buildApp({ outdir: tempOutdir(), context: { gpu: 'false' } });
    // Assess
    expect(withGpu.gpuInference).toBeDefined();
    expect(withoutGpu.gpuInference).toBeUndefined();
    expect(withoutGpu.app.node.children.map((c) => c.node.id).sort()).toEqual(['WritePath']);
  });

  it('points the batch writer at the pipeline snapshot and lets it only GetItem that table', () => {
    // Prepare
    const { writePath } = buildApp({ outdir: tempOutdir(), context: { gpu: 'false' } });
    const template = Template.fromStack(writePath);
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ SNAPSHOTS_TABLE: Match.anyValue(), SNAPSHOT_NAME: 'pipeline' }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'dynamodb:GetItem',
            Resource: Match.not(Match.stringLikeRegexp('\\*')),
          }),
        ]),
      },
    });
  });
});

describe('cdk-nag wiring', () => {
  const outdir = tempOutdir();

  it('fails the synth when a resource breaks an AWS Solutions rule', () => {
    // Prepare
    const { app, writePath } = buildApp({ context: testContext, outdir });
    new CfnQueue(writePath, 'PlainQueue', { sqsManagedSseEnabled: false });
    // Act
    const act = () => app.synth();
    // Assess
    expect(act).toThrow(/AwsSolutions-SQS2/);
  });
});

describe('contextFlag', () => {
  const outdir = tempOutdir();

  it.each([
    [true, true],
    ['true', true],
    [false, false],
    ['false', false],
  ])('reads %j as %j', (value, expected) => {
    // Prepare
    const app = new App({ context: { gpu: value }, outdir });
    // Act
    const flag = contextFlag(app, 'gpu', !expected);
    // Assess
    expect(flag).toBe(expected);
  });

  it('falls back to the default when the flag is not set', () => {
    // Prepare
    const app = new App({ outdir });
    // Act
    const flag = contextFlag(app, 'gpu', true);
    // Assess
    expect(flag).toBe(true);
  });

  it('rejects a value that is not a boolean, naming it', () => {
    // Prepare
    const app = new App({ context: { gpu: 'yes' }, outdir });
    // Act
    const act = () => contextFlag(app, 'gpu', true);
    // Assess
    expect(act).toThrow(InvalidContextError);
    expect(act).toThrow('context value gpu is "yes"; expected true or false');
  });
});
