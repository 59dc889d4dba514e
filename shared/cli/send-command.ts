import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { SQSClient } from '@aws-sdk/client-sqs';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type Message, validateMessage } from '../contract/message.ts';
import { PipelineError } from '../errors.ts';
import { DEFAULT_STACK_FILE, type LocalStack, readStackFile } from '../local/stack-file.ts';
import { writePathSettings } from '../settings.ts';
import { checkEntry, isFifoQueueUrl, sqsLimits } from '../sqs/limits.ts';
import { type MessageOptions, messageEntry, PipelineProducer, type SenderStats } from '../sqs/producer.ts';
import { MalformedLineError, SourceReadError, StackConfigError, UsageError } from './errors.ts';
import type { CliIo } from './pipeline.ts';
import { generateWorkload, type InvalidKind, type KeyDistribution } from './workload.ts';

/** The final report of `pipeline send` (`--json` prints it as one line). */
export interface SendSummary {
  readonly queueUrl: string;
  /** The file path, `stdin`, or `synthetic`. */
  readonly source: string;
  readonly seed?: number;
  /** Messages SQS accepted (synthetic invalid ones included). */
  readonly sent: number;
  readonly failed: number;
  readonly failedByReason: Readonly<Record<string, number>>;
  /** Synthetic messages sent invalid on purpose (`--invalid-rate`), for the batch writer's DLQ. */
  readonly invalidSent: number;
  readonly elapsedMs: number;
  readonly msgsPerSec: number;
  readonly requests: number;
  readonly entriesPerRequest: number;
  readonly retries: number;
  /** Stopped by Ctrl-C: what was read before it was sent, nothing after. */
  readonly interrupted: boolean;
}

interface SendFlags {
  readonly queueUrl?: string;
  readonly queue: string;
  readonly stackFile: string;
  readonly count?: number;
  readonly keyDist: KeyDistribution;
  readonly keys: number;
  readonly itemBytes: number;
  readonly versions?: boolean;
  readonly shuffleVersions?: boolean;
  readonly invalidRate: number;
  readonly table?: string;
  readonly seed: number;
  readonly concurrency: number;
  readonly maxDelayMs: number;
  readonly fifoGroups?: number;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

/** A message to send: a contract message, or a raw body the batch writer must reject (on purpose). */
type Outgoing =
  | { readonly key: string; readonly message: Message }
  | { readonly key: string; readonly body: string; readonly kind: InvalidKind };

interface Source {
  readonly name: string;
  /** Messages to send, when known (for the progress bar). */
  readonly total?: number;
  readonly messages: AsyncIterable<Outgoing>;
}

const SYNTHETIC_FLAGS = [
  'keyDist',
  'keys',
  'itemBytes',
  'versions',
  'shuffleVersions',
  'invalidRate',
  'table',
  'seed',
] as const;
const DEFAULT_FIFO_GROUPS = 16;
const MAX_KEYS = 10_000_000;
/** Room for the message envelope around the item. */
const MAX_ITEM_BYTES = sqsLimits.maxMessageBytes - 1024;

/** `pipeline send`: reports its exit status through `setExitCode` (0 all sent, 1 some failed, 130 interrupted). */
export function sendCommand(io: CliIo, setExitCode: (code: number) => void): Command {
  return new Command('send')
    .summary('send contract-v1 messages from a JSONL file, stdin or a synthetic workload')
    .description(
      'Send contract-v1 messages to a queue: a JSONL file, stdin (-), or a synthetic workload (--count).\n' +
        'A file is validated whole before anything is sent; stdin stops at the first bad line, having sent ' +
        'only the lines before it.',
    )
    .argument('[file]', 'JSONL file of contract-v1 messages, or - for stdin')
    .addOption(new Option('--queue-url <url>', 'target queue URL').conflicts('queue'))
    .option('--queue <name>', 'queue name resolved from the stack file', 'ingest')
    .option('--stack-file <path>', 'local stack file written by `npm run local`', DEFAULT_STACK_FILE)
    .option('--count <n>', 'synthetic: number of messages', integer(1))
    .addOption(
      new Option('--key-dist <dist>', 'synthetic: uniform or zipf:<s>')
        .argParser(keyDistribution)
        .default({ kind: 'uniform' }, 'uniform'),
    )
    .option('--keys <n>', 'synthetic: distinct keys', integer(1, MAX_KEYS), 1000)
    .option('--item-bytes <n>', "synthetic: bytes of each item's JSON", integer(1, MAX_ITEM_BYTES), 200)
    .option('--versions', 'synthetic: version every message, 1, 2, 3… per key')
    .option('--shuffle-versions', 'synthetic: send versions out of order (needs --versions)')
    .option('--invalid-rate <r>', 'synthetic: fraction (0..1) the batch writer must reject', rate, 0)
    .option('--table <logical>', 'synthetic: logical table (default: the default table)', tableName)
    .option('--seed <n>', 'synthetic: PRNG seed', integer(0, 2 ** 32 - 1), 1)
    .option('--concurrency <n>', 'SendMessageBatch requests in flight', integer(1, 256), 8)
    .option('--max-delay-ms <ms>', 'longest wait for a batch to fill', integer(0, 60_000), 10)
    .option(
      '--fifo-groups <n>',
      `FIFO: message groups, by a hash of the key (default ${DEFAULT_FIFO_GROUPS})`,
      integer(1),
    )
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress output')
    .action(async (file: string | undefined, flags: SendFlags, command: Command) => {
      const summary = await runSend(file, flags, command, io);
      setExitCode(summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0);
    });
}

async function runSend(
  file: string | undefined,
  flags: SendFlags,
  command: Command,
  io: CliIo,
): Promise<SendSummary> {
  const userSet = (name: string) => command.getOptionValueSource(name) === 'cli';
  checkSourceFlags(file, flags, userSet);
  const source =
    file === undefined
      ? syntheticSource(flags)
      : file === '-'
        ? jsonlSource('stdin', lines(io.stdin, io.signal))
        : await fileSource(resolve(io.cwd, file), io.signal);
  const target = await resolveTarget(flags, userSet('queue'), io.cwd);
  const fifo = isFifoQueueUrl(target.queueUrl);
  if (!fifo && flags.fifoGroups !== undefined) {
    target.client.destroy();
    throw new UsageError(`--fifo-groups applies to FIFO queues only; ${target.queueUrl} is a standard queue`);
  }

  const producer = new PipelineProducer({
    queueUrl: target.queueUrl,
    client: target.client,
    maxInFlight: flags.concurrency,
    maxDelayMs: flags.maxDelayMs,
  });
  const groups = flags.fifoGroups ?? DEFAULT_FIFO_GROUPS;
  const runId = randomUUID().slice(0, 8);
  const fifoIds = (key: string, seq: number): MessageOptions =>
    fifo ? { groupId: `g${fnv1a(key) % groups}`, dedupId: `${runId}-${seq}` } : {};

  const started = performance.now();
  const progress = flags.quiet
    ? { stop: () => {} }
    : startProgress(io, source.total, started, () => producer.stats);
  let invalidSent = 0;
  let interrupted: boolean;
  let badLine: BadLine | undefined;
  try {
    let seq = 0;
    for await (const outgoing of source.messages) {
      if (io.signal?.aborted) break;
      const ids = fifoIds(outgoing.key, seq++);
      try {
        if ('message' in outgoing) {
          const { receipt } = await producer.enqueueMessage(outgoing.message, ids);
          receipt.catch(() => {}); // counted in producer.stats
        } else {
          const { body } = outgoing;
          const { receipt } = await producer.sender.enqueue({
            body,
            messageGroupId: ids.groupId,
            messageDeduplicationId: ids.dedupId,
          });
          receipt.then(
            () => invalidSent++,
            () => {},
          );
        }
      } catch (error) {
        // Refused locally (counted in producer.stats); anything else is a bug.
        if (!(error instanceof PipelineError)) throw error;
      }
    }
  } catch (error) {
    if (!(error instanceof BadLine)) throw error;
    badLine = error;
  } finally {
    interrupted = io.signal?.aborted === true;
    // Drains: every message read so far is sent once; nothing after a stop is read.
    await producer.close();
    progress.stop();
    target.client.destroy();
  }

  const stats = producer.stats;
  const elapsedMs = performance.now() - started;
  const summary: SendSummary = {
    queueUrl: target.queueUrl,
    source: source.name,
    ...(file === undefined ? { seed: flags.seed } : {}),
    sent: stats.sent,
    failed: stats.failed,
    failedByReason: stats.failedByReason,
    invalidSent,
    elapsedMs: Math.round(elapsedMs),
    msgsPerSec: Math.round((stats.sent / Math.max(elapsedMs, 1)) * 1000),
    requests: stats.requests,
    entriesPerRequest: Math.round(stats.entriesPerRequest * 100) / 100,
    retries: stats.retries,
    interrupted,
  };
  io.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  if (badLine) throw new MalformedLineError(source.name, badLine.line, badLine.message, stats.sent);
  return summary;
}

function checkSourceFlags(
  file: string | undefined,
  flags: SendFlags,
  userSet: (name: string) => boolean,
): void {
  if (file !== undefined && flags.count !== undefined) {
    throw new UsageError(
      'give either a JSONL file (or - for stdin) or --count for a synthetic workload, not both',
    );
  }
  if (file === undefined && flags.count === undefined) {
    throw new UsageError(
      'nothing to send: give a JSONL file, - for stdin, or --count <n> for a synthetic workload',
    );
  }
  if (file !== undefined) {
    const synthetic = SYNTHETIC_FLAGS.filter(userSet);
    if (synthetic.length > 0) {
      const names = synthetic.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      throw new UsageError(`${names.join(', ')} apply to synthetic workloads (--count) only, not to ${file}`);
    }
  }
  if (flags.shuffleVersions && !flags.versions) {
    throw new UsageError('--shuffle-versions needs --versions (there is no version order to shuffle)');
  }
}

interface Target {
  readonly queueUrl: string;
  readonly client: SQSClient;
}

/**
 * `--queue-url`, or `--queue` looked up in the stack file. A local queue (the stack's endpoint or a
 * loopback host) gets the local endpoint and placeholder credentials; any other queue uses the
 * standard AWS credential and endpoint settings, with the region taken from the URL when it has one.
 */
async function resolveTarget(flags: SendFlags, queueGiven: boolean, cwd: string): Promise<Target> {
  const stackPath = resolve(cwd, flags.stackFile);
  if (flags.queueUrl === undefined || queueGiven) {
    const stack = await readStackFile(stackPath);
    const queue = stack.queues[flags.queue];
    if (!queue) {
      const known = Object.keys(stack.queues).join(', ') || 'none';
      throw new StackConfigError(stackPath, `no queue named "${flags.queue}" (known: ${known})`);
    }
    return { queueUrl: queue.url, client: localClient(stack.endpoints.sqs, stack) };
  }
  let url: URL;
  try {
    url = new URL(flags.queueUrl);
  } catch (cause) {
    throw new UsageError(`--queue-url ${flags.queueUrl} is not a URL`, { cause });
  }
  if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    const stack = await readStackFile(stackPath).catch(() => undefined);
    return { queueUrl: flags.queueUrl, client: localClient(url.origin, stack) };
  }
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
  return {
    queueUrl: flags.queueUrl,
    client: new SQSClient({ maxAttempts: 1, ...(region ? { region } : {}) }),
  };
}

function localClient(endpoint: string, stack: LocalStack | undefined): SQSClient {
  return new SQSClient({
    maxAttempts: 1,
    endpoint,
    region: stack?.region ?? 'us-east-1',
    // Local emulators do not check credentials; these keep the SDK from looking for real ones.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

function syntheticSource(flags: SendFlags): Source {
  const workload = generateWorkload({
    count: flags.count!,
    keys: flags.keys,
    keyDistribution: flags.keyDist,
    itemBytes: flags.itemBytes,
    versions: flags.versions === true,
    shuffleVersions: flags.shuffleVersions === true,
    invalidRate: flags.invalidRate,
    table: flags.table,
    seed: flags.seed,
  });
  async function* messages(): AsyncGenerator<Outgoing> {
    for (const m of workload) yield m.valid ? { key: m.key, message: m.message } : m;
  }
  return { name: 'synthetic', total: flags.count, messages: messages() };
}

/** A file is checked whole first (nothing is sent if any line is bad), then read again to send. */
async function fileSource(path: string, signal: AbortSignal | undefined): Promise<Source> {
  let total = 0;
  try {
    for await (const _ of parseLines(path, lines(await openFile(path), signal))) total++;
  } catch (error) {
    if (error instanceof BadLine) throw new MalformedLineError(path, error.line, error.message, 0);
    throw error;
  }
  const again = await openFile(path);
  return { name: path, total, messages: parseLines(path, lines(again, signal)) };
}

/** Stdin is read once: a bad line stops the run after the lines before it were sent. */
function jsonlSource(name: string, input: AsyncIterable<string>): Source {
  return { name, messages: parseLines(name, input) };
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

/** A JSONL line the batch writer (or SQS) would refuse. */
class BadLine extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(detail);
  }
}

async function* parseLines(name: string, input: AsyncIterable<string>): AsyncGenerator<Outgoing> {
  let line = 0;
  try {
    for await (const text of input) {
      line++;
      if (text.trim() === '') continue;
      const message = parseLine(text, line);
      yield { key: keyOf(message), message };
    }
  } catch (error) {
    if (error instanceof BadLine || error instanceof PipelineError) throw error;
    throw new SourceReadError(name, (error as Error).message, { cause: error });
  }
}

function parseLine(text: string, line: number): Message {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BadLine(line, `not valid JSON: ${(error as Error).message}`);
  }
  try {
    const message = validateMessage(json);
    checkEntry(messageEntry(message), { url: '', fifo: false }, sqsLimits.maxMessageBytes);
    return message;
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    throw new BadLine(line, `${error.code}: ${error.message}`);
  }
}

/** What identifies the written item, for FIFO grouping: each key's messages stay in one group, in order. */
function keyOf(message: Message): string {
  const { partitionKey, sortKey } = writePathSettings.table;
  const attributes: Readonly<Record<string, unknown>> = message.op === 'put' ? message.item : message.key;
  return JSON.stringify([message.table ?? '', attributes[partitionKey] ?? null, attributes[sortKey] ?? null]);
}

/** 32-bit FNV-1a: a stable spread of keys over FIFO groups. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function startProgress(
  io: CliIo,
  total: number | undefined,
  started: number,
  stats: () => SenderStats,
): { stop(): void } {
  const snapshot = () => {
    const { sent, failed } = stats();
    const seconds = (performance.now() - started) / 1000;
    return { done: sent + failed, rate: Math.round((sent + failed) / Math.max(seconds, 0.001)) };
  };
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr,
        format:
          total === undefined
            ? 'sending | {value} done | {rate} msgs/s'
            : 'sending |{bar}| {percentage}% | {value}/{total} | {rate} msgs/s | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { rate: 0 });
    const timer = setInterval(() => {
      const { done, rate } = snapshot();
      bar.update(done, { rate });
    }, 200);
    return {
      stop() {
        clearInterval(timer);
        const { done, rate } = snapshot();
        bar.update(done, { rate });
        bar.stop();
      },
    };
  }
  const timer = setInterval(() => {
    const { done, rate } = snapshot();
    const of = total === undefined ? '' : `/${total} (${Math.floor((done / Math.max(total, 1)) * 100)}%)`;
    const eta = total === undefined || rate === 0 ? '' : `, ETA ${Math.ceil((total - done) / rate)} s`;
    io.stderr.write(`progress: ${done}${of} done, ${rate} msgs/s${eta}\n`);
  }, 1000);
  return { stop: () => clearInterval(timer) };
}

function formatSummary(s: SendSummary): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const reasons = Object.entries(s.failedByReason)
    .map(([reason, count]) => `${reason} ×${n(count)}`)
    .join(', ');
  const lines = [
    `${s.interrupted ? 'interrupted: ' : ''}sent ${n(s.sent)} message(s) to ${s.queueUrl} in ${(s.elapsedMs / 1000).toFixed(2)} s (${n(s.msgsPerSec)} msgs/s)`,
    `failed ${n(s.failed)}${reasons ? `: ${reasons}` : ''}`,
    `requests ${n(s.requests)} (${s.entriesPerRequest.toFixed(2)} entries/request), retries ${n(s.retries)}`,
  ];
  if (s.invalidSent > 0) lines.push(`invalid on purpose (for the DLQ path): ${n(s.invalidSent)}`);
  return `${lines.join('\n')}\n`;
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
      throw new InvalidArgumentError(`expected an integer ${range}`);
    }
    return parsed;
  };
}

function rate(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new InvalidArgumentError('expected a number from 0 to 1');
  }
  return parsed;
}

function keyDistribution(value: string): KeyDistribution {
  if (value === 'uniform') return { kind: 'uniform' };
  const match = /^zipf:(.+)$/.exec(value);
  const s = Number(match?.[1]);
  if (!match || !Number.isFinite(s) || s < 0) {
    throw new InvalidArgumentError('expected uniform or zipf:<s> with s ≥ 0 (e.g. zipf:1.1)');
  }
  return { kind: 'zipf', s };
}

function tableName(value: string): string {
  try {
    validateMessage({ op: 'delete', table: value, key: { pk: 'k' } });
  } catch {
    throw new InvalidArgumentError('expected 1-64 characters of A-Z a-z 0-9 _ . -');
  }
  return value;
}
