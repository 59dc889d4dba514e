import { App, type AppProps } from 'aws-cdk-lib';
import { cdkContext, contextFlag } from './context.ts';
import { addNagChecks } from './nag.ts';
import { GpuInferenceStack } from './stacks/gpu-inference-stack.ts';
import { SnapshotsStack } from './stacks/snapshots-stack.ts';
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
  readonly writePath: WritePathStack;
  readonly snapshots: SnapshotsStack;
  /** Absent with `-c gpu=false`. */
  readonly gpuInference?: GpuInferenceStack;
}

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
  const snapshots = new SnapshotsStack(app, 'Snapshots');
  const writePath = new WritePathStack(app, 'WritePath');
  // The batch writer takes its routing from the `pipeline` snapshot (environment = bootstrap).
  snapshots.snapshots.bindReader(writePath.writePath.batchWriter);
  // `-c gpu=false` deploys without GPUs: the inference stack is left out entirely.
  const gpuInference = contextFlag(app, 'gpu', true) ? new GpuInferenceStack(app, 'GpuInference') : undefined;
  // The dispatcher picks model versions (staged rollout) from the same snapshot.
  if (gpuInference) snapshots.snapshots.bindReader(gpuInference.dispatcher.function);
  return { app, writePath, snapshots, gpuInference };
}
