/** The GPU recommendation: `messagesPerTask` and `maxInstances` of the GPU service. */

import { inferenceSettings } from '../inference/settings.ts';
import type { WorkloadAnalysis } from './analyze.ts';
import { InvalidAdviseOptionError } from './errors.ts';
import { clamp, fmt } from './format.ts';
import { adviseAssumptions as A } from './limits.ts';
import type { Recommendations, RecommendOptions } from './recommend-types.ts';

export function gpuOf(a: WorkloadAnalysis, options: RecommendOptions): Recommendations['gpu'] {
  if (options.gpu === undefined) {
    return {
      computed: false,
      driver: { figure: 'GPU figures given', value: 0, unit: 'of 2' },
      reason:
        'not computed: give --gpu-jobs-per-sec (inference jobs/s at the target) and --gpu-task-jobs-per-sec (what one GPU task sustains, from npm run bench -- gpu-worker on that GPU)',
    };
  }
  const { jobsPerSec, taskJobsPerSec } = options.gpu;
  for (const [name, value] of Object.entries({ jobsPerSec, taskJobsPerSec })) {
    if (!(value > 0) || !Number.isFinite(value))
      throw new InvalidAdviseOptionError(`gpu.${name}`, value, 'use a number > 0');
  }
  const { maxJobs } = inferenceSettings.workMessage;
  const { batchSize, maxBatchingWindowSeconds } = inferenceSettings.dispatcher;
  const jobsPerMessage = clamp(
    Math.floor(Math.min(batchSize, jobsPerSec * maxBatchingWindowSeconds)),
    1,
    maxJobs,
  );
  const messagesPerTask = Math.max(1, Math.floor((taskJobsPerSec * A.gpuDrainSeconds) / jobsPerMessage));
  const maxInstances = Math.max(1, Math.ceil((jobsPerSec * a.burstiness * A.gpuHeadroom) / taskJobsPerSec));
  return {
    computed: true,
    messagesPerTask,
    maxInstances,
    driver: { figure: 'jobs one GPU task sustains', value: taskJobsPerSec, unit: 'jobs/s' },
    reason: `one task clears ${fmt(taskJobsPerSec * A.gpuDrainSeconds)} jobs in ${A.gpuDrainSeconds} s, ~${messagesPerTask} messages of ${jobsPerMessage} jobs; ${fmt(jobsPerSec)} jobs/s (×${fmt(a.burstiness)} at the peak, ×${A.gpuHeadroom}) need ${maxInstances} task(s)`,
  };
}
