/**
 * The three inputs of `pipeline send`: a JSONL file (checked whole before anything is sent), stdin
 * (read once, stopping at the first bad line) and the synthetic workload (`--count`).
 */

import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { TenantOption } from '../../sqs/index.ts';
import { MalformedLineError, SourceReadError } from '../errors.ts';
import { BadLineError, type JsonlMessage, parseLines } from './jsonl.ts';
import { generateWorkload, type InvalidKind, type WorkloadOptions } from './workload.ts';

/** A message to send: a contract message, or a raw body the batch writer must reject (on purpose). */
export type Outgoing =
  | JsonlMessage
  | { readonly key: string; readonly body: string; readonly kind: InvalidKind };

export interface Source {
  /** The file path, `stdin`, or `synthetic`. */
  readonly name: string;
  /** Messages to send, when known (for the progress bar). */
  readonly total?: number;
  readonly messages: AsyncIterable<Outgoing>;
}

/** The synthetic workload as a source. */
export function syntheticSource(options: WorkloadOptions): Source {
  const workload = generateWorkload(options);
  async function* messages(): AsyncGenerator<Outgoing> {
    for (const m of workload) yield m.valid ? { key: m.key, message: m.message } : m;
  }
  return { name: 'synthetic', total: options.count, messages: messages() };
}

/**
 * A file is checked whole first (nothing is sent if any line is bad, its `tenant` included), then
 * read again to send.
 */
export async function fileSource(
  path: string,
  signal: AbortSignal | undefined,
  tenant?: TenantOption,
): Promise<Source> {
  let total = 0;
  try {
    for await (const _ of parseLines(path, lines(await openFile(path), signal), tenant)) total++;
  } catch (error) {
    if (error instanceof BadLineError) throw new MalformedLineError(path, error.line, error.message, 0);
    throw error;
  }
  const again = await openFile(path);
  return { name: path, total, messages: parseLines(path, lines(again, signal), tenant) };
}

/** Stdin is read once: a bad line stops the run after the lines before it were sent. */
export function stdinSource(
  stdin: NodeJS.ReadableStream,
  signal: AbortSignal | undefined,
  tenant?: TenantOption,
): Source {
  const name = 'stdin';
  return { name, messages: parseLines(name, lines(stdin, signal), tenant) };
}

async function openFile(path: string): Promise<NodeJS.ReadableStream> {
  try {
    const handle = await open(path, 'r');
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      throw new SourceReadError(path, 'not a regular file');
    }
    return handle.createReadStream({ encoding: 'utf8' });
  } catch (cause) {
    if (cause instanceof SourceReadError) throw cause;
    throw new SourceReadError(path, (cause as Error).message, { cause });
  }
}

/**
 * Lines of a stream, read only once iteration starts (a readline interface made earlier would start
 * reading and lose lines). Ctrl-C (`signal`) ends them, so the run stops reading and drains.
 */
async function* lines(input: NodeJS.ReadableStream, signal: AbortSignal | undefined): AsyncGenerator<string> {
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const stop = () => reader.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    yield* reader;
  } finally {
    signal?.removeEventListener('abort', stop);
    reader.close();
    // Stopped early (a bad line, Ctrl-C): release the file now, not when it is garbage-collected.
    if (input !== process.stdin) (input as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
