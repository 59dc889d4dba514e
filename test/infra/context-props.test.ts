import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import { runCli } from '../../shared/cli/pipeline.ts';
import { memoryIo } from '../support/fakes/memory-io.ts';
import { tempOutdir } from './support.ts';

// What `pipeline advise --context-file` writes is what the app synthesises: `-c contextFile=<file>`.
const dir = mkdtempSync(join(tmpdir(), 'advise-context-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const noBundling = { [BUNDLING_STACKS]: [] };

function contextFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('the context file pipeline advise writes', () => {
  let template: Template;

  beforeAll(async () => {
    // 8 of 10 writes to one partition at 5,000 messages/s.
    const lines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ op: 'put', item: { pk: i < 8 ? 'hot' : `k${i}`, sk: `s${i}` } }),
    );
    contextFile('sample.jsonl', `${lines.join('\n')}\n`);
    const io = memoryIo({ cwd: dir });
    const code = await runCli(
      ['advise', 'sample.jsonl', '--rate', '5000', '--context-file', 'advice.json'],
      io,
    );
    expect({ code, err: io.err() }).toEqual({ code: 0, err: '' });
    const { writePath, app } = buildApp({
      outdir: tempOutdir(),
      context: { ...noBundling, gpu: 'false', contextFile: join(dir, 'advice.json') },
    });
    app.synth();
    template = Template.fromStack(writePath);
  });

  it('sets the event source batch, window and maximum concurrency', () => {
    // 5,000/s over 5 pollers: 1,000 per 1 s window.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
  });

  it('sets the function memory and the WriteBatcher concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Environment: { Variables: Match.objectLike({ MAX_CONCURRENCY: '4' }) },
    });
  });

  it('pre-warms the items table for the launch', () => {
    // 5,000 WCU/s at the peak × 1.2.
    template.hasResourceProperties('AWS::DynamoDB::Table', { WarmThroughput: { WriteUnitsPerSecond: 6000 } });
  });
});

describe('sizing from context', () => {
  it('takes writePath as JSON text from -c, over the context file', () => {
    const file = contextFile('file.json', { writePath: { batchSize: 200 } });
    const { writePath } = buildApp({
      outdir: tempOutdir(),
      context: {
        ...noBundling,
        gpu: 'false',
        contextFile: file,
        writePath: '{"batchSize":300,"provisionedPollers":{"maximum":20}}',
      },
    });
    const template = Template.fromStack(writePath);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 300,
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 20 },
    });
  });

  it('gives the GPU service its messagesPerTask and maxInstances', () => {
    const file = contextFile('gpu.json', { gpuInference: { messagesPerTask: 187, maxInstances: 3 } });
    const { gpuInference } = buildApp({
      outdir: tempOutdir(),
      context: { ...noBundling, contextFile: file },
    });
    const template = Template.fromStack(gpuInference!);
    // One task from 1 message, two from 187, three from 374 (bounds relative to the 1-message threshold).
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 186, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 186, MetricIntervalUpperBound: 373, ScalingAdjustment: 2 },
          { MetricIntervalLowerBound: 373, ScalingAdjustment: 3 },
        ],
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MaxCapacity: 3 });
  });

  it.each([
    [{ writePath: { batchSize: 0 } }, /context value writePath\.batchSize is 0; expected /],
    [{ writePath: { batchsize: 10 } }, /context value writePath is .*expected .*batchsize/i],
    [{ writePath: '{not json' }, /context value writePath is "\{not json"; expected JSON/],
    [
      { contextFile: join(dir, 'missing.json') },
      /context value contextFile is ".*missing\.json"; expected a readable JSON file/,
    ],
    [
      { contextFile: contextFile('extra.json', { writePath: {}, other: 1 }) },
      /expected an object with only the keys writePath, gpuInference and \$comment/,
    ],
    [
      { writePath: { tableWarmThroughput: { writeUnitsPerSecond: 100 } } },
      /tableWarmThroughput\.writeUnitsPerSecond is 100; use an integer ≥ 4000/,
    ],
  ])('refuses %j with the key and what it expected', (context, message) => {
    expect(() =>
      buildApp({ outdir: tempOutdir(), context: { ...noBundling, gpu: 'false', ...context } }),
    ).toThrow(message);
  });
});
