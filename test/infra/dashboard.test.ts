import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type PipelineApp } from '../../infra/app.ts';
import { projectRoot } from '../../infra/constructs/pipeline-function.ts';
import { WritePathStack } from '../../infra/stacks/write-path-stack.ts';
import {
  DISPATCHER_METRICS,
  DISPATCHER_SERVICE,
  GPU_DIMENSION,
  GPU_TELEMETRY_METRICS,
  GPU_WORKER_METRICS,
  GPU_WORKER_SERVICE,
} from '../../shared/pipeline/inference/metric-names.ts';
import {
  BATCH_WRITER_METRICS,
  BATCH_WRITER_SERVICE,
  ROLLOUT_CONTROLLER_SERVICE,
  SNAPSHOT_PUBLISHER_METRICS,
  SNAPSHOT_PUBLISHER_SERVICE,
} from '../../shared/pipeline/metric-names.ts';
import { SNAPSHOT_READER_METRICS, SNAPSHOT_ROLLOUT_METRICS } from '../../shared/snapshots/index.ts';
import { WRITE_BATCHER_METRICS, type WriteStats } from '../../shared/write-batcher/index.ts';
import { publishWriteStats } from '../../shared/write-batcher/metrics.ts';
import { logicalIdOf, renderJoin, tempOutdir, testContext } from './support.ts';

/** One metric line of a dashboard graph: namespace, name and dimensions. */
interface DrawnMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Every metric the stack's one dashboard draws, from its DashboardBody (tokens rendered by `renderJoin`). */
function drawnMetrics(template: Template): DrawnMetric[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = JSON.parse(renderJoin(dashboards[0]?.Properties.DashboardBody)) as {
    widgets: { properties: { metrics?: unknown[][] } }[];
  };
  return body.widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).flatMap((line) => {
      // [namespace, name, dimension, value, …, options]; a math expression line is [{ expression }].
      const [namespace, name, ...pairs] = line.filter((part): part is string => typeof part === 'string');
      if (namespace === undefined || name === undefined) return [];
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1] as string;
      return [{ namespace, name, dimensions }];
    }),
  );
}

/** The names in `expected` that no drawn metric has with that namespace and those dimensions. */
function missing(
  drawn: readonly DrawnMetric[],
  namespace: string,
  names: readonly string[],
  dimensions: Readonly<Record<string, string>>,
): string[] {
  return names.filter(
    (name) =>
      !drawn.some(
        (m) =>
          m.namespace === namespace &&
          m.name === name &&
          Object.entries(dimensions).every(([key, value]) => m.dimensions[key] === value) &&
          Object.keys(m.dimensions).length === Object.keys(dimensions).length,
      ),
  );
}

/** `POWERTOOLS_METRICS_NAMESPACE` of a Lambda function in the template. */
function namespaceOfFunction(template: Template, fn: IConstruct): string {
  const resource = template.toJSON().Resources[logicalIdOf(fn)];
  return resource.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE;
}

/** What the WriteBatcher emits, recorded from `publishWriteStats` itself (not retyped). */
function emittedWriteBatcherNames(): string[] {
  const names: string[] = [];
  const recorder = { addMetric: (name: string) => names.push(name) } as unknown as Metrics;
  const zeros = new Proxy({}, { get: () => 0 }) as WriteStats;
  publishWriteStats(recorder, zeros);
  return names;
}

const ref = (construct: IConstruct) => `<Ref:${logicalIdOf(construct)}>`;
const queueName = (construct: IConstruct) => `<GetAtt:${logicalIdOf(construct)}.QueueName>`;

describe('the dashboards', () => {
  const outdir = tempOutdir();
  let pipeline: PipelineApp;
  let writePath: DrawnMetric[];
  let gpu: DrawnMetric[];
  let writePathTemplate: Template;
  let gpuTemplate: Template;

  beforeAll(() => {
    pipeline = buildApp({ context: testContext, outdir });
    writePathTemplate = Template.fromStack(pipeline.writePath);
    gpuTemplate = Template.fromStack(pipeline.gpuInference as Stack);
    writePath = drawnMetrics(writePathTemplate);
    gpu = drawnMetrics(gpuTemplate);
  });

  it('are one per stack, named after the stack and its region', () => {
    // Act
    const names = [writePathTemplate, gpuTemplate].map(
      (t) => Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardName,
    );
    // Assess
    expect(names).toEqual([
      { 'Fn::Join': ['', ['WritePath-', { Ref: 'AWS::Region' }]] },
      { 'Fn::Join': ['', ['GpuInference-', { Ref: 'AWS::Region' }]] },
    ]);
  });

  it('hold exactly the names publishWriteStats emits in WRITE_BATCHER_METRICS', () => {
    // Act
    const emitted = emittedWriteBatcherNames();
    // Assess
    expect([...emitted].sort()).toEqual(Object.values(WRITE_BATCHER_METRICS).sort());
  });

  it('draw every metric the batch writer, its WriteBatcher and snapshot reader, the publisher and the rollout controller emit', () => {
    // Prepare
    const construct = pipeline.writePath.writePath;
    const batchWriterNamespace = namespaceOfFunction(writePathTemplate, construct.batchWriter);
    const publisherNamespace = namespaceOfFunction(writePathTemplate, pipeline.writePath.snapshots.publisher);
    const controllerNamespace = namespaceOfFunction(
      writePathTemplate,
      pipeline.writePath.rolloutController.function,
    );
    const batchWriter = { service: BATCH_WRITER_SERVICE };
    // Act
    const absent = [
      ...missing(writePath, batchWriterNamespace, Object.values(BATCH_WRITER_METRICS), batchWriter),
      ...missing(writePath, batchWriterNamespace, emittedWriteBatcherNames(), batchWriter),
      ...missing(writePath, batchWriterNamespace, Object.values(SNAPSHOT_READER_METRICS), batchWriter),
      ...missing(writePath, publisherNamespace, Object.values(SNAPSHOT_PUBLISHER_METRICS), {
        service: SNAPSHOT_PUBLISHER_SERVICE,
      }),
      ...missing(writePath, controllerNamespace, Object.values(SNAPSHOT_ROLLOUT_METRICS), {
        service: ROLLOUT_CONTROLLER_SERVICE,
      }),
    ];
    // Assess
    expect(batchWriterNamespace).toBe('BatchWritePipeline');
    expect(absent).toEqual([]);
  });

  it('draw the ingest and config-changes queues, their DLQs and the three functions', () => {
    // Prepare
    const { writePath: construct, snapshots } = pipeline.writePath;
    const queueMetrics = [
      'NumberOfMessagesSent',
      'NumberOfMessagesReceived',
      'NumberOfMessagesDeleted',
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesVisible',
    ];
    const lambdaMetrics = ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions'];
    // Act
    const absent = [
      ...missing(writePath, 'AWS/SQS', queueMetrics, { QueueName: queueName(construct.queue) }),
      ...missing(writePath, 'AWS/SQS', queueMetrics, { QueueName: queueName(snapshots.changesQueue) }),
      ...missing(writePath, 'AWS/SQS', ['ApproximateNumberOfMessagesVisible'], {
        QueueName: queueName(construct.deadLetterQueue),
      }),
      ...missing(writePath, 'AWS/SQS', ['ApproximateNumberOfMessagesVisible'], {
        QueueName: queueName(snapshots.changesDeadLetterQueue),
      }),
      ...missing(writePath, 'AWS/Lambda', lambdaMetrics, { FunctionName: ref(construct.batchWriter) }),
      ...missing(writePath, 'AWS/Lambda', lambdaMetrics, { FunctionName: ref(snapshots.publisher) }),
      ...missing(writePath, 'AWS/Lambda', lambdaMetrics, {
        FunctionName: ref(pipeline.writePath.rolloutController.function),
      }),
    ];
    // Assess
    expect(absent).toEqual([]);
  });

  it('draw every metric the dispatcher and the GPU worker emit, GPU telemetry per GPU', () => {
    // Prepare
    const stack = pipeline.gpuInference!;
    const dispatcherNamespace = namespaceOfFunction(gpuTemplate, stack.dispatcher.function);
    const workerNamespace = stack.workers.metricsNamespace;
    const dispatcher = { service: DISPATCHER_SERVICE };
    const worker = { service: GPU_WORKER_SERVICE };
    // Act
    const absent = [
      ...missing(gpu, dispatcherNamespace, Object.values(DISPATCHER_METRICS), dispatcher),
      ...missing(gpu, dispatcherNamespace, emittedWriteBatcherNames(), dispatcher),
      ...missing(gpu, workerNamespace, Object.values(GPU_WORKER_METRICS), worker),
      ...missing(gpu, workerNamespace, emittedWriteBatcherNames(), worker),
      ...missing(gpu, workerNamespace, Object.values(GPU_TELEMETRY_METRICS), {
        ...worker,
        [GPU_DIMENSION]: '0',
      }),
    ];
    // Assess
    expect(absent).toEqual([]);
    gpuTemplate.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Environment: Match.arrayWith([{ Name: 'POWERTOOLS_METRICS_NAMESPACE', Value: workerNamespace }]),
        }),
      ]),
    });
  });

  it('draw the gpu-work backlog, the GPU tasks and the inference-requests queue', () => {
    // Prepare
    const stack = pipeline.gpuInference!;
    const service = {
      ClusterName: ref(stack.workers.cluster),
      ServiceName: `<GetAtt:${logicalIdOf(stack.workers.service)}.Name>`,
    };
    // Act
    const absent = [
      ...missing(
        gpu,
        'AWS/SQS',
        ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible'],
        {
          QueueName: queueName(stack.workQueue),
        },
      ),
      ...missing(gpu, 'AWS/SQS', ['ApproximateAgeOfOldestMessage', 'NumberOfMessagesSent'], {
        QueueName: queueName(stack.workQueue),
      }),
      ...missing(gpu, 'AWS/SQS', ['ApproximateNumberOfMessagesVisible'], {
        QueueName: queueName(stack.workDeadLetterQueue),
      }),
      ...missing(gpu, 'AWS/SQS', ['NumberOfMessagesReceived', 'ApproximateAgeOfOldestMessage'], {
        QueueName: queueName(stack.dispatcher.requestsQueue),
      }),
      ...missing(gpu, 'ECS/ContainerInsights', ['RunningTaskCount', 'DesiredTaskCount'], service),
      ...missing(gpu, 'AWS/Lambda', ['Errors', 'Throttles'], {
        FunctionName: ref(stack.dispatcher.function),
      }),
    ];
    // Assess
    expect(absent).toEqual([]);
  });

  it('chart the config snapshot version each reader serves from its logs', () => {
    // Act
    const widgets = [writePathTemplate, gpuTemplate].map((t) => {
      const body = renderJoin(
        Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardBody,
      );
      return (JSON.parse(body).widgets as { type: string; properties: { query: string } }[]).filter(
        (w) => w.type === 'log',
      );
    });
    // Assess
    expect(widgets[0]?.map((w) => w.properties.query)).toEqual([
      expect.stringContaining(`SOURCE '<Ref:${logicalIdOf(pipeline.writePath.writePath.logGroup)}>'`),
    ]);
    expect(widgets[0]?.[0]?.properties.query).toContain('max(snapshotVersion)');
    expect(widgets[1]?.[0]?.properties.query).toContain('max(stableVersion)');
  });
});

describe('the write path dashboard with event source metrics', () => {
  const outdir = tempOutdir();

  it('draws the event source mapping EventCount metrics', () => {
    // Prepare
    const app = new App({ context: testContext, outdir });
    const stack = new WritePathStack(app, 'WritePath', { writePath: { eventSourceMetrics: true } });
    // Act
    const drawn = drawnMetrics(Template.fromStack(stack));
    // Assess
    const mapping = stack.writePath.eventSourceMapping;
    expect(
      missing(drawn, 'AWS/Lambda', ['PolledEventCount', 'InvokedEventCount', 'FailedInvokeEventCount'], {
        EventSourceMappingUUID: ref(mapping),
      }),
    ).toEqual([]);
  });
});

describe('the code that emits metrics', () => {
  it('names them by the exported constants, never inline', () => {
    // Prepare
    const files = ['functions', 'shared']
      .flatMap((dir) =>
        (readdirSync(join(projectRoot, dir), { recursive: true }) as string[]).map((f) => join(dir, f)),
      )
      .filter((f) => f.endsWith('.ts') && !/^shared\/(local|cli)\//.test(f));
    // Act
    const inline = files.filter((f) =>
      /addMetric\(\s*['"`]/.test(readFileSync(join(projectRoot, f), 'utf8')),
    );
    // Assess
    expect(inline).toEqual([]);
  });
});
