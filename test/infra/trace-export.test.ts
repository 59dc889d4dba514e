import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type PipelineApp } from '../../infra/app.ts';
import { InvalidContextError, InvalidPropError } from '../../infra/constructs/errors.ts';
import { traceExportEnvironment } from '../../infra/constructs/trace-export.ts';
import { GpuInferenceStack } from '../../infra/stacks/gpu-inference-stack.ts';
import { tempOutdir, testContext, writePathFixture } from './support.ts';

const ENDPOINT = 'http://collector.internal:4318';

/** Every environment variable of every function and container in `template`, by resource. */
function environments(template: Template): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    out[id] = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
  }
  for (const [id, task] of Object.entries(template.findResources('AWS::ECS::TaskDefinition'))) {
    for (const container of task.Properties.ContainerDefinitions as {
      Environment?: { Name: string; Value: unknown }[];
    }[]) {
      out[id] = Object.fromEntries((container.Environment ?? []).map((e) => [e.Name, e.Value]));
    }
  }
  return out;
}

const otelOf = (variables: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(variables).filter(([name]) => name.startsWith('OTEL_')));

function synthesized(pipeline: PipelineApp) {
  pipeline.app.synth(); // cdk-nag runs here: a finding throws
  return {
    writePath: environments(Template.fromStack(pipeline.writePath)),
    gpu: environments(Template.fromStack(pipeline.gpuInference!)),
  };
}

describe('trace export in the synthesized app', () => {
  let off: ReturnType<typeof synthesized>;
  let on: ReturnType<typeof synthesized>;
  beforeAll(() => {
    off = synthesized(buildApp({ context: testContext, outdir: tempOutdir() }));
    on = synthesized(buildApp({ context: { ...testContext, otlpEndpoint: ENDPOINT }, outdir: tempOutdir() }));
  });

  it('sets no OTEL variable on any function or task by default', () => {
    // Act
    const otel = [...Object.values(off.writePath), ...Object.values(off.gpu)].map(otelOf);
    // Assess
    expect(otel.length).toBeGreaterThanOrEqual(4);
    expect(otel.every((variables) => Object.keys(variables).length === 0)).toBe(true);
  });

  it('with -c otlpEndpoint, points the batch writer, the dispatcher and the GPU workers at it, each under its service name', () => {
    // Act
    const services = [...Object.values(on.writePath), ...Object.values(on.gpu)]
      .map((variables) => [variables.POWERTOOLS_SERVICE_NAME, otelOf(variables)] as const)
      .filter(([, otel]) => Object.keys(otel).length > 0);
    // Assess: the snapshot publisher creates no span, so it gets nothing.
    expect(Object.fromEntries(services)).toEqual({
      'batch-writer': { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SERVICE_NAME: 'batch-writer' },
      'inference-dispatcher': {
        OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
        OTEL_SERVICE_NAME: 'inference-dispatcher',
      },
      'gpu-worker': { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SERVICE_NAME: 'gpu-worker' },
    });
  });
});

describe('traceExport props', () => {
  it('set the sampler and resource attributes when given', () => {
    // Prepare
    const { stack } = writePathFixture(
      {
        traceExport: {
          otlpEndpoint: 'https://otel.example.com',
          sampleRatio: 0.1,
          resourceAttributes: { 'deployment.environment': 'prod', team: 'data' },
        },
      },
      tempOutdir(),
    );
    // Act
    const template = Template.fromStack(stack);
    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com',
          OTEL_SERVICE_NAME: 'batch-writer',
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.1',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=data',
        },
      },
    });
  });

  it.each([
    [{ otlpEndpoint: 'collector:4318' }, 'traceExport.otlpEndpoint is "collector:4318"'],
    [{ otlpEndpoint: ENDPOINT, sampleRatio: 2 }, 'traceExport.sampleRatio is 2; use 0..1'],
    [
      { otlpEndpoint: ENDPOINT, resourceAttributes: { team: 'a,b' } },
      'traceExport.resourceAttributes is "team=a,b"',
    ],
  ])('refuses %j with an InvalidPropError naming the prop', (props, message) => {
    // Act
    const env = () => traceExportEnvironment('WritePath', props, 'batch-writer');
    // Assess
    expect(env).toThrow(InvalidPropError);
    expect(env).toThrow(message);
  });

  it('reaches the GPU stack’s dispatcher and workers from its own prop', () => {
    // Prepare
    const app = new App({ context: testContext, outdir: tempOutdir() });
    const stack = new GpuInferenceStack(app, 'Gpu', { traceExport: { otlpEndpoint: ENDPOINT } });
    // Act
    const otel = Object.values(environments(Template.fromStack(stack))).map(otelOf);
    // Assess
    expect(otel.filter((o) => o.OTEL_EXPORTER_OTLP_ENDPOINT === ENDPOINT)).toHaveLength(2);
  });

  it('refuses an otlpEndpoint context that is not a string', () => {
    // Act
    const build = () => buildApp({ context: { ...testContext, otlpEndpoint: 4318 }, outdir: tempOutdir() });
    // Assess
    expect(build).toThrow(InvalidContextError);
    expect(build).toThrow('context value otlpEndpoint is 4318; expected a string');
  });
});
