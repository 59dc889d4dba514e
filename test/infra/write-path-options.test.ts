import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConflictingPropsError, InvalidPropError } from '../../infra/constructs/errors.ts';
import type { WritePathProps } from '../../infra/constructs/write-path.ts';
import { logicalIdOf, statementsOfRole, tempOutdir, writePathFixture } from './support.ts';

const outdir = tempOutdir();

describe('with custom props', () => {
  let template: Template;
  beforeAll(() => {
    const { stack } = writePathFixture(
      {
        timeout: Duration.seconds(120),
        memoryMiB: 2048,
        writeConcurrency: 16,
        deadlineMargin: Duration.seconds(3),
        batchSize: 500,
        maxBatchingWindow: Duration.seconds(5),
        maxConcurrency: 50,
        maxReceiveCount: 3,
        metricsNamespace: 'Custom',
        logLevel: 'DEBUG',
        oldestMessageAgeThreshold: Duration.minutes(15),
      },
      outdir,
    );
    template = Template.fromStack(stack);
  });

  it('raises the default visibility timeout to 6 × a longer function timeout', () => {
    // Act
    const queues = template.findResources('AWS::SQS::Queue', { Properties: { VisibilityTimeout: 720 } });
    // Assess
    expect(Object.keys(queues)).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 120, MemorySize: 2048 });
  });

  it('passes the batcher limits and Powertools settings to the function', () => {
    // Prepare
    const expected = {
      MAX_CONCURRENCY: '16',
      DEADLINE_MARGIN_MS: '3000',
      POWERTOOLS_METRICS_NAMESPACE: 'Custom',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    };
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike(expected) },
      });
    // Assess
    expect(act).not.toThrow();
  });

  it('configures the event source with the given batch size, window and concurrency', () => {
    // Prepare
    const expected = {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 50 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    };
    // Act
    const act = () => template.hasResourceProperties('AWS::Lambda::EventSourceMapping', expected);
    // Assess
    expect(act).not.toThrow();
  });

  it('redrives after the given receive count and alarms at the given backlog age', () => {
    // Act
    const redriving = template.findResources('AWS::SQS::Queue', {
      Properties: { RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }) },
    });
    // Assess
    expect(Object.keys(redriving)).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
    });
  });
});

describe('FIFO', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(writePathFixture({ fifo: true }, outdir).stack);
  });

  it('makes both queues FIFO in high-throughput mode with content-based deduplication', () => {
    // Prepare
    const expected = {
      FifoQueue: true,
      ContentBasedDeduplication: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      SqsManagedSseEnabled: true,
    };
    // Act
    const queues = template.findResources('AWS::SQS::Queue', { Properties: Match.objectLike(expected) });
    // Assess
    expect(Object.keys(queues)).toHaveLength(2);
  });

  it('takes at most 10 records per batch, with no batching window', () => {
    // Act
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0];
    // Assess
    expect(mapping?.Properties).toMatchObject({
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping?.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
  });
});

describe('in provisioned mode', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(
      writePathFixture({ provisionedPollers: { minimum: 5, maximum: 50 }, eventSourceMetrics: true }, outdir)
        .stack,
    );
  });

  it('gives the event source the pollers and no maximum concurrency', () => {
    // Act
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0];
    // Assess
    expect(mapping?.Properties.ProvisionedPollerConfig).toEqual({ MinimumPollers: 5, MaximumPollers: 50 });
    expect(mapping?.Properties.ScalingConfig).toBeUndefined();
  });

  it('turns on the event source EventCount metrics', () => {
    // Act
    const act = () =>
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        MetricsConfig: { Metrics: ['EventCount'] },
      });
    // Assess
    expect(act).not.toThrow();
  });

  it("keeps AWS's fewest pollers when only the maximum is given", () => {
    // Act
    const { stack } = writePathFixture({ provisionedPollers: { maximum: 10 } }, outdir);
    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 10 },
    });
  });
});

describe('in standard mode', () => {
  it('has no pollers and no event source metrics by default', () => {
    // Act
    const template = Template.fromStack(writePathFixture(undefined, outdir).stack);
    // Assess
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0];
    expect(mapping?.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 10 });
    expect(mapping?.Properties.ProvisionedPollerConfig).toBeUndefined();
    expect(mapping?.Properties.MetricsConfig).toBeUndefined();
  });
});

describe('with tracing', () => {
  it('allows X-Ray on any resource, the only wildcard, and still passes cdk-nag', () => {
    // Prepare
    const { stack, writePath } = writePathFixture({ tracing: Tracing.ACTIVE }, outdir);
    // Act
    const template = Template.fromStack(stack);
    // Assess
    const wildcard = statementsOfRole(template, logicalIdOf(writePath.batchWriter.role as Role)).filter(
      (s) => s.Resource === '*',
    );
    expect(wildcard.flatMap((s) => s.Action).sort()).toEqual([
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });
});

describe('rejects props it cannot deploy', () => {
  it.each<[string, WritePathProps, RegExp]>([
    [
      'a visibility timeout under 6 × the function timeout',
      { timeout: Duration.seconds(60), visibilityTimeout: Duration.seconds(300) },
      /visibilityTimeout is 5 minutes; make it at least 6 × the function timeout \(1 minute\): 360 seconds/,
    ],
    ['a FIFO batch over 10', { fifo: true, batchSize: 11 }, /batchSize is 11; FIFO queues allow at most 10/],
    [
      'a FIFO batching window',
      { fifo: true, maxBatchingWindow: Duration.seconds(1) },
      /maxBatchingWindow is 1 second; FIFO queues allow no batching window/,
    ],
    ['a write concurrency of 0', { writeConcurrency: 0 }, /writeConcurrency is 0; use 1\.\.256/],
    [
      'a deadline margin as long as the timeout',
      { timeout: Duration.seconds(10), deadlineMargin: Duration.seconds(10) },
      /deadlineMargin is 10 seconds; keep it below the function timeout \(10 seconds\)/,
    ],
    ['a receive count of 0', { maxReceiveCount: 0 }, /maxReceiveCount is 0; use 1\.\.1000/],
    [
      'one poller at least',
      { provisionedPollers: { minimum: 1, maximum: 10 } },
      /provisionedPollers\.minimum is 1; use 2\.\.200/,
    ],
    [
      'more pollers than SQS event sources allow',
      { provisionedPollers: { maximum: 2001 } },
      /provisionedPollers\.maximum is 2001; use 2\.\.2000/,
    ],
    [
      'a fractional poller count',
      { provisionedPollers: { maximum: 2.5 } },
      /provisionedPollers\.maximum is 2\.5; use 2\.\.2000/,
    ],
    [
      'a minimum over the maximum',
      { provisionedPollers: { minimum: 20, maximum: 10 } },
      /provisionedPollers\.minimum is 20; keep it at most provisionedPollers\.maximum \(10\)/,
    ],
  ])('%s', (_name, props, message) => {
    // Act
    const act = () => writePathFixture(props, outdir);
    // Assess
    expect(act).toThrow(InvalidPropError);
    expect(act).toThrow(message);
  });
});

describe('rejects provisioned mode with a maximum concurrency', () => {
  it('naming both props and what to change', () => {
    // Act
    const act = () => writePathFixture({ provisionedPollers: { maximum: 10 }, maxConcurrency: 20 }, outdir);
    // Assess
    expect(act).toThrow(ConflictingPropsError);
    expect(act).toThrow(
      /WritePath provisionedPollers and maxConcurrency cannot be combined; .*leave maxConcurrency \(20\) unset/,
    );
  });
});
