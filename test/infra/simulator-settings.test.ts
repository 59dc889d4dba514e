import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import { readCloudAssembly } from '../../shared/local/cloud/assembly.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import { settingsFromTemplates } from '../../shared/simulator/index.ts';
import { tempOutdir } from './support.ts';

/** The app synthesized to a cloud assembly as `cdk synth` writes it (bundling skipped), read back from disk. */
function synthesizedSettings(context: Record<string, unknown> = {}) {
  const outdir = tempOutdir();
  buildApp({ outdir, context: { [BUNDLING_STACKS]: [], ...context } }).app.synth();
  return settingsFromTemplates(readCloudAssembly(outdir).stacks);
}

describe('the simulator’s settings from the synthesized app', () => {
  it('are the write path’s deployed settings and the GPU tier’s', () => {
    // Act
    const settings = synthesizedSettings();
    // Assess
    const { eventSource, function: fn, queue } = writePathSettings;
    expect(settings.eventSource).toEqual({
      batchSize: eventSource.batchSize,
      maxBatchingWindowSeconds: eventSource.maxBatchingWindowSeconds,
      maximumConcurrency: eventSource.maxConcurrency,
    });
    expect(settings.lambda).toMatchObject({
      memoryMiB: fn.memoryMiB,
      timeoutSeconds: fn.timeoutSeconds,
      architecture: 'arm64',
      writeConcurrency: fn.maxConcurrency,
      deadlineMarginMs: fn.deadlineMarginMs,
    });
    expect(settings.queue).toEqual({
      visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
      maxReceiveCount: queue.maxReceiveCount,
    });
    expect(settings.table.billingMode).toBe('PAY_PER_REQUEST');
    expect(settings.gpu).toMatchObject({ tasksPerInstance: 1, maxBatch: expect.any(Number) });
    expect(settings.gpu!.steps.length).toBeGreaterThan(0);
    expect(settings.gpu!.instanceType).toMatch(/^g/);
  });

  it('follow the sizing the app is synthesized with', () => {
    // Act
    const settings = synthesizedSettings({
      writePath: {
        batchSize: 500,
        provisionedPollers: { minimum: 5, maximum: 50 },
        writeConcurrency: 32,
        tableWarmThroughput: { writeUnitsPerSecond: 20_000 },
      },
    });
    // Assess
    expect(settings.eventSource).toMatchObject({
      batchSize: 500,
      provisionedPollers: { minimum: 5, maximum: 50 },
    });
    expect(settings.eventSource.maximumConcurrency).toBeUndefined();
    expect(settings.lambda.writeConcurrency).toBe(32);
    expect(settings.table.warmWriteUnitsPerSec).toBe(20_000);
  });
});
