/**
 * The pipeline simulator: SQS → event source pollers → Lambda → WriteBatcher → DynamoDB partitions
 * (and the GPU tier, coarsely), time-stepped with messages as counts, seeded, driven by the
 * synthesized template's settings and a measured workload.
 *
 * @example
 * const settings = settingsFromTemplates(readCloudAssembly('cdk.out').stacks);
 * const result = simulate({ settings, workload: workloadFromSample(records), ratePerSec: 100_000, durationSeconds: 3600 });
 */

export type { CapacityOptions } from './dynamodb.ts';
export { simulate } from './engine.ts';
export {
  InvalidSimulationError,
  InvalidWorkloadError,
  SimulatorError,
  TemplateSettingsError,
} from './errors.ts';
export type { GpuInput, GpuResult } from './gpu.ts';
export type { SimulationInput } from './input.ts';
export { listPrices } from './pricing.ts';
export { type CostBreakdown, lambdaCost, type SimulationResult } from './result.ts';
export type { SeriesPoint } from './series.ts';
export {
  awsServiceTimes,
  defaultPipelineSettings,
  type GpuSettings,
  type PipelineSettings,
  type ServiceTimes,
} from './settings.ts';
export { settingsFromTemplates, type TemplateStack } from './template.ts';
export {
  duplicateRatioAt,
  type SampleWorkloadOptions,
  type SimWorkload,
  uniformWorkload,
  workloadFromSample,
} from './workload.ts';
