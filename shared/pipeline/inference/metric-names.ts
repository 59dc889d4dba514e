/**
 * What the inference path publishes: Powertools service names (the `service` dimension, in the
 * namespace `POWERTOOLS_METRICS_NAMESPACE`) and metric names. The dispatcher and the GPU worker
 * write job records through a WriteBatcher, which adds `WRITE_BATCHER_METRICS` under their service.
 * Shared with infra/, so the dashboard graphs what the code emits.
 */

/** `serviceName` of the dispatcher's Logger and Metrics. */
export const DISPATCHER_SERVICE = 'inference-dispatcher';

/** Added once per batch of inference requests by the dispatcher (all `Count`). */
export const DISPATCHER_METRICS = {
  InferenceRequestsReceived: 'InferenceRequestsReceived',
  InferenceJobsQueued: 'InferenceJobsQueued',
  InferenceRequestsDuplicate: 'InferenceRequestsDuplicate',
  InferenceRequestsDeadLettered: 'InferenceRequestsDeadLettered',
  InferenceRequestsRetried: 'InferenceRequestsRetried',
  WorkMessagesSent: 'WorkMessagesSent',
  WorkerScaledFromZero: 'WorkerScaledFromZero',
} as const;

/** `serviceName` of the GPU worker's Logger and Metrics. */
export const GPU_WORKER_SERVICE = 'gpu-worker';

/** Added by the GPU worker's loop, batch runner and record writer (dimension `service` only). */
export const GPU_WORKER_METRICS = {
  InvalidWorkMessages: 'InvalidWorkMessages',
  JobsRetried: 'JobsRetried',
  JobsDone: 'JobsDone',
  JobsFailed: 'JobsFailed',
  BatchSize: 'BatchSize',
  InferenceLatency: 'InferenceLatency',
  GpuOutOfMemory: 'GpuOutOfMemory',
  ColdStartModelLoad: 'ColdStartModelLoad',
  ColdStartWarmUp: 'ColdStartWarmUp',
  ColdStartReady: 'ColdStartReady',
} as const;

/** The extra dimension of `GPU_TELEMETRY_METRICS`: the GPU's index as `nvidia-smi` reports it. */
export const GPU_DIMENSION = 'gpu';

/** Published by the GPU monitor for each sample, per GPU (dimensions `service` and `gpu`). */
export const GPU_TELEMETRY_METRICS = {
  GpuUtilization: 'GpuUtilization',
  GpuMemoryUsed: 'GpuMemoryUsed',
  GpuTemperature: 'GpuTemperature',
  GpuPowerDraw: 'GpuPowerDraw',
  GpuSmClock: 'GpuSmClock',
  GpuThermalThrottled: 'GpuThermalThrottled',
  GpuPowerThrottled: 'GpuPowerThrottled',
  BatchLimit: 'BatchLimit',
} as const;
