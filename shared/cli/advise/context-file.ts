/**
 * The advice as a CDK context file the app takes: `npx cdk synth -c contextFile=<file>` (or merge
 * its keys into cdk.context.json). `infra/context-props.ts` reads it.
 */

import { writeFile } from 'node:fs/promises';
import type { GpuInferenceContext, WritePathContext } from '../../../infra/context-props.ts';
import { OutputWriteError } from '../errors.ts';
import type { Advice } from './advice.ts';

export interface AdviceContext {
  readonly $comment: string;
  readonly writePath: WritePathContext;
  readonly gpuInference?: GpuInferenceContext;
}

/**
 * The write path's event source, memory and WriteBatcher concurrency; warm throughput for the items
 * table (`itemsTable`: its physical name in the analysis) when a launch needs it; the GPU stack's
 * `messagesPerTask` and `maxInstances` when they were computed.
 */
export function adviceContext(advice: Advice, itemsTable: string): AdviceContext {
  const r = advice.recommendations;
  const es = r.eventSource;
  const warm = r.warmThroughput.tables.find((t) => t.table === itemsTable);
  return {
    $comment: `pipeline advise ${advice.source.name} at ${advice.rate} messages/s: npx cdk synth -c contextFile=<this file>`,
    writePath: {
      batchSize: r.batch.batchSize,
      maxBatchingWindowSeconds: r.batch.maxBatchingWindowSeconds,
      ...(es.mode === 'standard'
        ? { maxConcurrency: es.maxConcurrency }
        : { provisionedPollers: es.provisionedPollers }),
      memoryMiB: r.memoryMiB.value,
      writeConcurrency: r.writeConcurrency.value,
      ...(warm ? { tableWarmThroughput: { writeUnitsPerSecond: warm.writeUnitsPerSecond } } : {}),
    },
    ...(r.gpu.computed
      ? { gpuInference: { messagesPerTask: r.gpu.messagesPerTask, maxInstances: r.gpu.maxInstances } }
      : {}),
  };
}

export async function writeContextFile(path: string, context: AdviceContext): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(context, null, 2)}\n`);
  } catch (cause) {
    throw new OutputWriteError(path, (cause as Error).message, { cause });
  }
}
