/**
 * The inputs of `pipeline advise`: a JSONL sample (a file or stdin) or the synthetic workload of
 * `pipeline send` (`--count` and its flags). A bad line is counted and reported, and the analysis
 * goes on; with `--strict` it stops the run.
 */

import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { PipelineError } from '../../core/errors.ts';
import { SampleLineError } from '../../pipeline/capacity/errors.ts';
import { parseSampleLine, type SampleRecord } from '../../pipeline/capacity/sample.ts';
import { InvalidSampleError, SourceReadError } from '../errors.ts';
import { generateWorkload, type WorkloadOptions } from '../send/workload.ts';

/** Lines reported by number when some are bad. */
const BAD_LINE_SAMPLES = 5;

export interface SampleInput {
  /** The file path, `stdin` or `synthetic`. */
  readonly name: string;
  /** Non-blank lines read. */
  readonly lines: number;
  readonly records: readonly SampleRecord[];
  readonly badLines: number;
  /** The first few bad lines: number and reason. */
  readonly badLineSamples: readonly { readonly line: number; readonly reason: string }[];
  /**
   * The sample holds each item once, as a table scan does: duplicates within a batch and version
   * disorder cannot be measured from it. @default false
   */
  readonly eachItemOnce?: boolean;
}

/** Reads a JSONL sample from `path` (or stdin for `-`), named `shown` (the path as typed) in errors. */
export async function readSample(
  path: string,
  shown: string,
  stdin: NodeJS.ReadableStream,
  strict: boolean,
): Promise<SampleInput> {
  const name = path === '-' ? 'stdin' : shown;
  const input = path === '-' ? stdin : await openFile(path, name);
  return collect(name, lines(input, name), strict);
}

/** The synthetic workload `pipeline send --count …` would send, as a sample. */
export async function syntheticSample(options: WorkloadOptions, strict: boolean): Promise<SampleInput> {
  async function* bodies(): AsyncGenerator<string> {
    for (const m of generateWorkload(options)) yield m.valid ? JSON.stringify(m.message) : m.body;
  }
  return collect('synthetic', bodies(), strict);
}

async function collect(name: string, texts: AsyncIterable<string>, strict: boolean): Promise<SampleInput> {
  const records: SampleRecord[] = [];
  const badLineSamples: { line: number; reason: string }[] = [];
  let line = 0;
  let nonBlank = 0;
  let badLines = 0;
  for await (const text of texts) {
    line++;
    if (text.trim() === '') continue;
    nonBlank++;
    try {
      records.push(parseSampleLine(text, line));
    } catch (error) {
      if (!(error instanceof SampleLineError)) throw error;
      if (strict)
        throw new InvalidSampleError(name, `${name}:${line}: ${error.detail} (--strict)`, { cause: error });
      badLines++;
      if (badLineSamples.length < BAD_LINE_SAMPLES) badLineSamples.push({ line, reason: error.detail });
    }
  }
  if (nonBlank === 0) throw new InvalidSampleError(name, `${name} has no lines to analyse`);
  if (records.length === 0) {
    const first = badLineSamples[0]!;
    throw new InvalidSampleError(
      name,
      `none of the ${badLines} lines of ${name} is usable (line ${first.line}: ${first.reason})`,
    );
  }
  return { name, lines: nonBlank, records, badLines, badLineSamples };
}

async function openFile(path: string, name: string): Promise<NodeJS.ReadableStream> {
  try {
    const handle = await open(path, 'r');
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      throw new SourceReadError(name, 'not a regular file');
    }
    return handle.createReadStream({ encoding: 'utf8' });
  } catch (cause) {
    if (cause instanceof PipelineError) throw cause;
    throw new SourceReadError(name, (cause as Error).message, { cause });
  }
}

async function* lines(input: NodeJS.ReadableStream, name: string): AsyncGenerator<string> {
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    yield* reader;
  } catch (cause) {
    throw new SourceReadError(name, (cause as Error).message, { cause });
  } finally {
    reader.close();
    if (input !== process.stdin) (input as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
