/**
 * One run of `pipeline simulate`: check the flags, read the pipeline's settings from the cloud
 * assembly, measure the workload sample, simulate, then print (table or JSON) and write the report.
 */

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PipelineError } from '../../core/errors.ts';
import { type CloudAssembly, readCloudAssembly, synthesize } from '../../local/cloud/assembly.ts';
import { CloudAssemblyError } from '../../local/cloud/errors.ts';
import { observedRate } from '../../pipeline/capacity/rate.ts';
import {
  InvalidSimulationError,
  InvalidWorkloadError,
  type PipelineSettings,
  type SimulationResult,
  settingsFromTemplates,
  simulate,
  TemplateSettingsError,
  workloadFromSample,
} from '../../simulator/index.ts';
import type { AdviseFlags } from '../advise/flags.ts';
import { checkAdviseFlags, readRoutes } from '../advise/flags.ts';
import { openSample } from '../advise/run.ts';
import { AssemblySettingsError, InvalidSampleError, UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { SimulationDocument } from './document.ts';
import { formatSimulation } from './format.ts';
import { writeSimulationReport } from './report.ts';

export type SimulateFlags = Omit<AdviseFlags, 'top' | 'contextFile' | 'rate'> & {
  readonly rate: number;
  readonly duration: number;
  readonly drain: number;
  readonly cdkOut?: string;
  readonly stepMs: number;
  readonly gpuStartSeconds: number;
};

/** The span of rates the simulator is meant for; below it a note says it was validated from here. */
export const RATE_SPAN = { min: 1, validatedFrom: 1_000, max: 1_000_000 } as const;
const MAX_DURATION_SECONDS = 86_400;

export async function runSimulate(
  file: string | undefined,
  flags: SimulateFlags,
  userSet: (name: string) => boolean,
  io: CliIo,
): Promise<SimulationDocument> {
  // --seed seeds the simulation too, so it is no synthetic-only flag here.
  checkAdviseFlags(file, { ...flags, top: 1 }, (name) => name !== 'seed' && userSet(name));
  if (flags.rate < RATE_SPAN.min || flags.rate > RATE_SPAN.max)
    throw new UsageError(
      `--rate ${flags.rate}: use ${RATE_SPAN.min} to ${RATE_SPAN.max.toLocaleString('en-US')} messages/s`,
    );
  if (flags.duration > MAX_DURATION_SECONDS)
    throw new UsageError(`--duration ${flags.duration}: use at most ${MAX_DURATION_SECONDS} s (one day)`);
  if (flags.stepMs > 1000 || flags.stepMs * 1000 > flags.duration * 1000 * 1000)
    throw new UsageError(`--step-ms ${flags.stepMs}: use at most 1000 ms and less than --duration`);
  const notes: string[] = [];
  if (flags.rate < RATE_SPAN.validatedFrom)
    notes.push(
      `--rate ${flags.rate} is below ${RATE_SPAN.validatedFrom.toLocaleString('en-US')}/s, where the model was validated`,
    );
  const cdkOut = await assemblyDir(flags.cdkOut, io, notes);
  const settings = readSettings(cdkOut, flags.cdkOut ?? 'cdk.out');
  const routes =
    flags.routes === undefined ? undefined : await readRoutes(resolve(io.cwd, flags.routes), flags.routes);
  const input = await openSample(file, { ...flags, top: 1 }, io);
  const window = settings.eventSource.maxBatchingWindowSeconds;
  const expectedBatch = Math.max(
    1,
    Math.min(settings.eventSource.batchSize, Math.ceil((flags.rate * window) / 5)),
  );
  let result: SimulationResult;
  try {
    const workload = workloadFromSample(input.records, {
      ...(routes ? { routes } : {}),
      versionedWrites: flags.versionedWrites,
      batchSize: expectedBatch,
    });
    const times = input.records.map((r) => r.at);
    const timed = times.length > 1 && times.every((t) => t !== undefined);
    if (timed) notes.push("the sample's sentAt timestamps shape the rate over time (scaled to --rate)");
    const gpu =
      flags.gpuJobsPerSec !== undefined && flags.gpuTaskJobsPerSec !== undefined
        ? {
            jobsPerSec: flags.gpuJobsPerSec,
            taskJobsPerSec: flags.gpuTaskJobsPerSec,
            instanceStartSeconds: flags.gpuStartSeconds,
          }
        : undefined;
    if (gpu && !settings.gpu) notes.push('the assembly has no GPU tier: the GPU flags are ignored');
    result = simulate({
      settings,
      workload,
      ratePerSec: flags.rate,
      durationSeconds: flags.duration,
      drainSeconds: flags.drain,
      seed: flags.seed,
      stepMs: flags.stepMs,
      ...(timed ? { profile: observedRate((times as number[]).sort((a, b) => a - b)).perSecond } : {}),
      ...(gpu ? { gpu } : {}),
    });
  } catch (error) {
    if (error instanceof InvalidWorkloadError)
      throw new InvalidSampleError(input.name, `${input.name}: ${error.message}`, { cause: error });
    if (error instanceof InvalidSimulationError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  const doc: SimulationDocument = {
    source: { name: input.name, lines: input.lines, badLines: input.badLines },
    cdkOut,
    ratePerSec: flags.rate,
    durationSeconds: flags.duration,
    notes,
    result,
  };
  if (flags.report !== undefined) await writeSimulationReport(resolve(io.cwd, flags.report), doc);
  io.stdout.write(flags.json ? `${JSON.stringify(doc)}\n` : formatSimulation(doc));
  return doc;
}

/** `--cdk-out` as given (it must exist), else ./cdk.out, synthesized when it has no manifest. */
async function assemblyDir(flag: string | undefined, io: CliIo, notes: string[]): Promise<string> {
  if (flag !== undefined) {
    const dir = resolve(io.cwd, flag);
    if (!existsSync(join(dir, 'manifest.json')))
      throw new AssemblySettingsError(
        flag,
        'no manifest.json there: run `npm run synth` or name a cloud assembly',
      );
    return dir;
  }
  const dir = resolve(io.cwd, 'cdk.out');
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  io.stderr.write('no cdk.out: synthesizing the app (npx cdk synth)…\n');
  notes.push('cdk.out was synthesized for this run');
  try {
    await synthesize({ projectRoot: io.cwd });
  } catch (cause) {
    if (!(cause instanceof PipelineError)) throw cause;
    throw new AssemblySettingsError('cdk.out', cause.message, { cause });
  }
  return dir;
}

function readSettings(dir: string, shown: string): PipelineSettings {
  let assembly: CloudAssembly;
  try {
    assembly = readCloudAssembly(dir);
  } catch (cause) {
    if (!(cause instanceof CloudAssemblyError)) throw cause;
    throw new AssemblySettingsError(shown, cause.message, { cause });
  }
  try {
    return settingsFromTemplates(assembly.stacks);
  } catch (cause) {
    if (!(cause instanceof TemplateSettingsError)) throw cause;
    throw new AssemblySettingsError(shown, cause.message, { cause });
  }
}
