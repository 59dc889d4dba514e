/**
 * The GPU tier, coarsely, in 1 s steps: jobs arrive on the work queue; step scaling sets the
 * desired task count from the backlog (ExactCapacity steps of the template); a task needs an
 * instance, and a new instance takes `instanceStartSeconds` to join the cluster; each running task
 * serves `taskJobsPerSec`. Instances stay up once started (the scale-in cooldown is 15 minutes).
 */

import { LatencyHistogram } from './histogram.ts';
import type { GpuSettings } from './settings.ts';

export interface GpuInput {
  /** Inference jobs per second arriving. */
  readonly jobsPerSec: number;
  /** Jobs per second one GPU task sustains (`npm run bench -- gpu-worker`). */
  readonly taskJobsPerSec: number;
  /** Seconds from scale-out to a new instance's task serving. @default 300 */
  readonly instanceStartSeconds?: number;
}

export interface GpuResult {
  readonly jobs: number;
  readonly completed: number;
  readonly peakBacklog: number;
  readonly peakTasks: number;
  readonly instanceHours: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
}

/** Simulates the GPU tier for `seconds`. */
export function simulateGpu(settings: GpuSettings, input: GpuInput, seconds: number): GpuResult {
  const startS = input.instanceStartSeconds ?? 300;
  const queue: { at: number; count: number }[] = [];
  const latency = new LatencyHistogram();
  const ready: number[] = [];
  let pending: number[] = [];
  let backlog = 0;
  let jobs = 0;
  let completed = 0;
  let peakBacklog = 0;
  let peakTasks = 0;
  let instanceSeconds = 0;
  for (let t = 0; t < seconds; t++) {
    queue.push({ at: t, count: input.jobsPerSec });
    backlog += input.jobsPerSec;
    jobs += input.jobsPerSec;
    let desired = 0;
    for (const step of settings.steps) if (backlog >= step.lowerBound) desired = step.tasks;
    desired = Math.min(desired, settings.maxTasks, settings.maxInstances * settings.tasksPerInstance);
    const instancesWanted = Math.ceil(desired / settings.tasksPerInstance);
    while (ready.length + pending.length < instancesWanted) pending.push(t + startS);
    const joined = pending.filter((at) => at <= t);
    pending = pending.filter((at) => at > t);
    ready.push(...joined);
    const tasks = Math.min(desired, ready.length * settings.tasksPerInstance);
    peakTasks = Math.max(peakTasks, tasks);
    instanceSeconds += ready.length + pending.length;
    let serve = tasks * input.taskJobsPerSec;
    while (serve > 0 && queue.length > 0) {
      const head = queue[0]!;
      const part = Math.min(head.count, serve);
      head.count -= part;
      serve -= part;
      backlog -= part;
      completed += part;
      latency.add((t + 1 - head.at) * 1000, part);
      if (head.count <= 1e-9) queue.shift();
    }
    peakBacklog = Math.max(peakBacklog, backlog);
  }
  return {
    jobs,
    completed,
    peakBacklog,
    peakTasks,
    instanceHours: instanceSeconds / 3600,
    latencyMs: { p50: latency.quantile(0.5), p99: latency.quantile(0.99) },
  };
}
