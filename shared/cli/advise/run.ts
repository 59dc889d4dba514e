/**
 * One run of `pipeline advise`: read the live figures (a queue's rate, a table's scan) and the
 * sample, measure it, measure one batch's heap through the batch writer, recommend, then print
 * (table or JSON) and write the context file and report.
 */

import { resolve } from 'node:path';
import { DEFAULT_TABLE } from '../../contract/index.ts';
import { analyzeWorkload } from '../../pipeline/capacity/analyze.ts';
import { InvalidAdviseOptionError } from '../../pipeline/capacity/errors.ts';
import { recommend } from '../../pipeline/capacity/recommend.ts';
import { UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { syntheticWorkloadOf } from '../send/flags.ts';
import { type Advice, adviceDocument } from './advice.ts';
import { adviceContext, writeContextFile } from './context-file.ts';
import { type AdviseFlags, checkAdviseFlags, readRoutes } from './flags.ts';
import { formatAdvice } from './format.ts';
import { measureBatchHeap } from './heap.ts';
import { readSample, type SampleInput, syntheticSample } from './input.ts';
import { type AdviseDeps, readLiveInputs } from './live.ts';
import { writeReport } from './report.ts';

export async function runAdvise(
  file: string | undefined,
  flags: AdviseFlags,
  userSet: (name: string) => boolean,
  io: CliIo,
  deps: AdviseDeps = {},
): Promise<Advice> {
  checkAdviseFlags(file, flags, userSet);
  const given =
    flags.routes === undefined ? undefined : await readRoutes(resolve(io.cwd, flags.routes), flags.routes);
  const live = await readLiveInputs(flags, given, deps);
  const input = live.sample?.input ?? (await openSample(file, flags, io));
  const routes = live.sample?.routes ?? given;
  const gpu =
    flags.gpuJobsPerSec !== undefined && flags.gpuTaskJobsPerSec !== undefined
      ? { jobsPerSec: flags.gpuJobsPerSec, taskJobsPerSec: flags.gpuTaskJobsPerSec }
      : undefined;
  let advice: Advice;
  try {
    const analysis = analyzeWorkload(input.records, {
      ...(flags.rate === undefined ? {} : { rate: flags.rate }),
      ...(live.externalRate ? { externalRate: live.externalRate } : {}),
      ...(routes === undefined ? {} : { routes }),
      versionedWrites: flags.versionedWrites,
      top: flags.top,
    });
    const batchHeapBytes = await measureBatchHeap(
      analysis.largestBatch,
      analysis.routes,
      flags.versionedWrites,
    );
    const recommendations = recommend(analysis, {
      batchHeapBytes,
      versionedWrites: flags.versionedWrites,
      ...(gpu ? { gpu } : {}),
    });
    advice = adviceDocument(input, analysis, recommendations, live);
    if (flags.contextFile !== undefined) {
      const itemsTable = analysis.routes[DEFAULT_TABLE]?.tableName ?? DEFAULT_TABLE;
      await writeContextFile(resolve(io.cwd, flags.contextFile), adviceContext(advice, itemsTable));
    }
  } catch (error) {
    if (error instanceof InvalidAdviseOptionError)
      throw new UsageError(`${input.name}: ${error.message}`, { cause: error });
    throw error;
  }
  if (flags.report !== undefined) await writeReport(resolve(io.cwd, flags.report), advice);
  io.stdout.write(flags.json ? `${JSON.stringify(advice)}\n` : formatAdvice(advice));
  return advice;
}

export async function openSample(
  file: string | undefined,
  flags: AdviseFlags,
  io: CliIo,
): Promise<SampleInput> {
  const strict = flags.strict === true;
  if (file === undefined) {
    return syntheticSample(syntheticWorkloadOf(flags), strict);
  }
  return readSample(file === '-' ? '-' : resolve(io.cwd, file), file, io.stdin, strict);
}
