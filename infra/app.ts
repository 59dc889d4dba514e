import { App, type AppProps } from 'aws-cdk-lib';
import { inferenceSettings } from '../shared/pipeline/inference/settings.ts';
import type { TraceExportProps } from './constructs/trace-export.ts';
import { cdkContext, contextFlag, contextString } from './context.ts';
import { gpuInferenceContextProps, writePathContextProps } from './context-props.ts';
import { addNagChecks } from './nag.ts';
import { GpuInferenceStack } from './stacks/gpu-inference-stack.ts';
import { WritePathStack } from './stacks/write-path-stack.ts';

export interface BuildAppOptions {
  /** Extra context, over `cdk.json`'s (the CLI's `-c` values still win). @default none */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Where the cloud assembly goes. @default the CLI's output directory, or a temporary one */
  readonly outdir?: string;
}

/** The app and its stacks, so tests can assert on any of them. */
export interface PipelineApp {
  readonly app: App;
  /** The write path and the config snapshots it follows (`writePath.snapshots`). */
  readonly writePath: WritePathStack;
  /** Absent with `-c gpu=false`. */
  readonly gpuInference?: GpuInferenceStack;
}

/** Model name → version the dispatcher serves before a config snapshot names the model. */
const MODELS: Readonly<Record<string, string>> = {
  [inferenceSettings.model.name]: inferenceSettings.model.version,
};

/**
 * Builds the pipeline's app: every stack, with cdk-nag checking each synth. The composition root
 * (`infra/bin/app.ts`) and the tests share it, so what is tested is what `cdk synth` produces.
 */
export function buildApp(options: BuildAppOptions = {}): PipelineApp {
  const appProps: AppProps = {
    context: { ...cdkContext, ...options.context },
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
  };
  const app = new App(appProps);
  addNagChecks(app);
  // The write path stack holds the config snapshots too: the batch writer reads them, and the
  // publisher needs the write path's granted tables and bootstrap routing.
  // `-c otlpEndpoint=http://collector:4318` exports OpenTelemetry traces from every traced
  // component (batch writer, dispatcher, GPU workers); none without it. Sizing from context
  // (`pipeline advise --context-file`, see context-props.ts), else the defaults.
  const traceExport = traceExportContext(app);
  const writePath = new WritePathStack(app, 'WritePath', {
    writePath: { ...writePathContextProps(app), ...(traceExport ? { traceExport } : {}) },
  });
  const { snapshots } = writePath;
  // `-c gpu=false` deploys without GPUs: the inference stack is left out entirely.
  const gpuInference = contextFlag(app, 'gpu', true)
    ? new GpuInferenceStack(app, 'GpuInference', {
        models: MODELS,
        ...gpuInferenceContextProps(app),
        ...(traceExport ? { traceExport } : {}),
      })
    : undefined;
  if (gpuInference) {
    // The dispatcher picks model versions (staged rollout) from the same snapshot; its MODELS are
    // part of the bootstrap document the first version starts from.
    snapshots.bindReader(gpuInference.dispatcher.function);
    snapshots.addBootstrap({
      models: Object.fromEntries(Object.entries(MODELS).map(([name, version]) => [name, { version }])),
    });
  }
  return { app, writePath, gpuInference };
}

/** `-c otlpEndpoint=<url>`: where every traced component exports its spans. */
function traceExportContext(app: App): TraceExportProps | undefined {
  const otlpEndpoint = contextString(app, 'otlpEndpoint');
  return otlpEndpoint === undefined ? undefined : { otlpEndpoint };
}
