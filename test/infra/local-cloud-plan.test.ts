import { describe, expect, it } from 'vitest';
import { readCloudAssembly } from '../../shared/local/cloud/assembly.ts';
import { planDeployment } from '../../shared/local/cloud/deploy.ts';
import { tempOutdir, writePathFixture } from './support.ts';

const identity = { region: 'us-east-1', account: '000000000000', sqsOrigin: 'http://127.0.0.1:4566' };

describe('the local cloud plan of a write path in provisioned mode', () => {
  const outdir = tempOutdir();

  it('runs the event source and lists its pollers and metrics as not emulated', () => {
    // Prepare
    const { app } = writePathFixture(
      { provisionedPollers: { maximum: 10 }, eventSourceMetrics: true },
      outdir,
    );
    // Act
    const plan = planDeployment(readCloudAssembly(app.synth().directory), identity);
    // Assess
    expect(plan.eventSourceMappings).toHaveLength(1);
    expect(plan.eventSourceMappings[0]?.maximumConcurrency).toBeUndefined();
    expect(plan.notEmulated.get('AWS::Lambda::EventSourceMapping.ProvisionedPollerConfig')).toBe(1);
    expect(plan.notEmulated.get('AWS::Lambda::EventSourceMapping.MetricsConfig')).toBe(1);
  });
});
