import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localClientConfig } from '../../../shared/local/aws/client-config.ts';
import {
  commandLineOf,
  type EmulatorsFile,
  isProcessAlive,
  readEmulatorsFile,
} from '../../../shared/local/aws/daemons.ts';

// `npm run local` as a user runs it: a child process on a state directory of its own, killed with
// kill -9 mid-stream and started again. The emulators are daemons that outlive it; the restart
// reattaches, releases what the killed run held, and the pipeline converges on the exact state.

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(projectRoot, 'node_modules', '.bin');
const LOCAL = join(projectRoot, 'shared', 'local', 'dev', 'local.ts');
const READY = /Local cloud ready/;
/** Synthesis (when cdk.out is stale) and a first JVM start on a busy 2-core machine. */
const START_TIMEOUT_MS = 300_000;

/** The child runs on its own emulators: none of the shared stack's AWS_* variables reach it. */
function childEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return { ...env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, CDK_DISABLE_CLI_TELEMETRY: 'true' };
}

interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  output(): string;
}

const runs: Run[] = [];

/** Spawns `tsx shared/local/dev/local.ts --state-dir <dir> …` in a process group of its own. */
function startRun(stateDir: string, extra: readonly string[] = []): Run {
  // One Node.js process running the script (`--import tsx`), not the `tsx` CLI: that CLI relays a
  // SIGINT to its child and SIGKILLs it (exit 130) when the child does not confirm within 30 ms,
  // which a loaded machine misses.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      LOCAL,
      '--state-dir',
      stateDir,
      '--outputs-file',
      join(stateDir, 'outputs.json'),
      '--stack-file',
      join(stateDir, 'stack.json'),
      ...extra,
    ],
    { cwd: projectRoot, env: childEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const run = { child, exited, output: () => text };
  runs.push(run);
  return run;
}

async function untilReady(run: Run, stateDir: string): Promise<void> {
  const ready = vi.waitFor(
    () => {
      expect(run.output()).toMatch(READY);
      expect(existsSync(join(stateDir, 'outputs.json'))).toBe(true);
    },
    { timeout: START_TIMEOUT_MS, interval: 200 },
  );
  const exited = run.exited.then(({ code, signal }) => {
    throw new Error(`npm run local exited (${signal ?? code}) before it was ready:\n${run.output()}`);
  });
  await Promise.race([ready, exited]);
}

/** Ctrl-C, as a user stops it; resolves with its exit code. */
async function interrupt(run: Run): Promise<number | null> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGINT');
  return (await run.exited).code;
}

/** SIGKILL to the run's whole process group: tsx, the script, its function instances. */
function killHard(run: Run): void {
  if (run.child.pid !== undefined && run.child.exitCode === null && run.child.signalCode === null) {
    try {
      process.kill(-run.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Running, and not a zombie waiting to be reaped. */
const running = (pid: number) => isProcessAlive(pid) && commandLineOf(pid).length > 0;

type Outputs = Record<string, Record<string, string>>;
const readOutputs = (stateDir: string) =>
  JSON.parse(readFileSync(join(stateDir, 'outputs.json'), 'utf8')) as Outputs;

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * 3,000 messages: 300 keys with versions 1–5 each (shuffled, so versions arrive out of order) and
 * 1,500 unversioned puts of unique keys; and the table they must leave behind.
 */
function workload() {
  const next = random(7);
  const bodies: object[] = [];
  const expected = new Map<string, Record<string, unknown>>();
  for (let key = 0; key < 300; key++) {
    for (let version = 1; version <= 5; version++)
      bodies.push({ op: 'put', item: { pk: `v${key}`, sk: '1', n: version }, version });
    expected.set(`v${key}`, { pk: `v${key}`, sk: '1', n: 5, _version: 5 });
  }
  for (let i = 0; i < 1_500; i++) {
    bodies.push({ op: 'put', item: { pk: `u${i}`, sk: '1', n: i } });
    expected.set(`u${i}`, { pk: `u${i}`, sk: '1', n: i });
  }
  for (let i = bodies.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
  }
  return { bodies, expected };
}

describe('npm run local across restarts', () => {
  let scratch: string;
  let stateDir: string;
  let first: Run;
  let firstOutputs: Outputs;
  let emulators: EmulatorsFile;
  let sqs: SQSClient;
  let dynamodb: DynamoDBClient;
  const { bodies, expected } = workload();

  /** The queue URL of an output, pointing straight at local-aws-sqs (the gateways die with a run). */
  const queueUrl = (name: string) =>
    `${emulators.sqs.endpoint}${new URL(String(firstOutputs.WritePath?.[name])).pathname}`;
  const tableName = () => String(firstOutputs.WritePath?.TableName);

  async function depth(name: string): Promise<{ visible: number; notVisible: number }> {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl(name),
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages),
      notVisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    };
  }

  async function table(): Promise<Map<string, Record<string, unknown>>> {
    const items = new Map<string, Record<string, unknown>>();
    for await (const page of paginateScan(
      { client: dynamodb },
      { TableName: tableName(), ConsistentRead: true },
    ))
      for (const raw of page.Items ?? []) {
        const item = unmarshall(raw);
        items.set(String(item.pk), item);
      }
    return items;
  }

  async function send(): Promise<void> {
    const batches: object[][] = [];
    for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
    const sendAll = async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        const out = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl('IngestQueueUrl'),
            Entries: batch.map((body, j) => ({ Id: String(j), MessageBody: JSON.stringify(body) })),
          }),
        );
        expect(out.Failed ?? []).toEqual([]);
      }
    };
    await Promise.all(Array.from({ length: 8 }, sendAll));
  }

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'npm-run-local-'));
    stateDir = join(scratch, 'state');
    first = startRun(stateDir);
    await untilReady(first, stateDir);
    firstOutputs = readOutputs(stateDir);
    emulators = (await readEmulatorsFile(stateDir))!;
    sqs = new SQSClient(localClientConfig(emulators.sqs.endpoint, emulators.region));
    dynamodb = new DynamoDBClient(localClientConfig(emulators.dynamodb.endpoint, emulators.region));
  }, START_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    for (const run of runs) killHard(run);
    const destroy = startRun(stateDir, ['--destroy']);
    await destroy.exited;
    sqs?.destroy();
    dynamodb?.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  it('refuses a second run on the same state directory, naming the pid that holds it', async () => {
    // Prepare
    const holder = readFileSync(join(stateDir, 'local.pid'), 'utf8').trim();
    // Act
    const second = startRun(stateDir);
    const { code } = await second.exited;
    // Assess
    expect(code).toBe(1);
    expect(second.output()).toContain(`pid ${holder}`);
    expect(first.child.exitCode).toBeNull();
  });

  it('loses nothing to kill -9 mid-stream: the restart reattaches, releases what was in flight and converges', async () => {
    // Prepare: every message received (none visible) and some written, so the run holds messages.
    await send();
    await vi.waitFor(
      async () => {
        const { visible, notVisible } = await depth('IngestQueueUrl');
        // local-aws-sqs counts in-flight messages in ApproximateNumberOfMessages too.
        expect(visible - notVisible).toBeLessThanOrEqual(0);
        expect((await table()).size).toBeGreaterThan(0);
      },
      { timeout: 120_000, interval: 50 },
    );
    // Act: kill -9 the run (its whole group); the daemons live in groups of their own.
    killHard(first);
    await first.exited;
    const inFlight = (await depth('IngestQueueUrl')).notVisible;
    const daemonsAlive = [emulators.dynamodb.pid, emulators.sqs.pid].map(running);
    const restart = startRun(stateDir);
    try {
      await untilReady(restart, stateDir);
      // Assess
      expect(daemonsAlive).toEqual([true, true]);
      expect(restart.output()).toContain('emulators reattached');
      expect(readOutputs(stateDir)).toEqual(firstOutputs);
      // Every held message is released; only those of a receive cut short by the kill (whose
      // answer the run never saw) wait for their visibility timeout (360 s).
      const released = Number(/released\s+(\d+) message/.exec(restart.output())?.[1] ?? 0);
      const stranded = Number(/stranded\s+(\d+) message/.exec(restart.output())?.[1] ?? 0);
      expect(released + stranded).toBe(inFlight);
      await vi.waitFor(
        async () => {
          expect(await depth('IngestQueueUrl')).toEqual({ visible: 0, notVisible: 0 });
          expect(await depth('DeadLetterQueueUrl')).toEqual({ visible: 0, notVisible: 0 });
          expect(await table()).toEqual(expected);
        },
        { timeout: stranded > 0 ? 600_000 : 300_000, interval: 500 },
      );
      // Assess: a clean stop leaves the daemons running and says so.
      expect(await interrupt(restart)).toBe(0);
      expect(restart.output()).toContain('the emulators keep running');
      expect([emulators.dynamodb.pid, emulators.sqs.pid].map(running)).toEqual([true, true]);
    } finally {
      killHard(restart);
    }
  }, 900_000);

  it(
    'reuses the same resources and their data on the next run',
    async () => {
      // Act
      const again = startRun(stateDir);
      try {
        await untilReady(again, stateDir);
        // Assess
        expect(again.output()).toContain('emulators reattached');
        expect(readOutputs(stateDir)).toEqual(firstOutputs);
        expect(await table()).toEqual(expected);
        expect(await interrupt(again)).toBe(0);
      } finally {
        killHard(again);
      }
    },
    START_TIMEOUT_MS,
  );

  it('--destroy stops the emulators and wipes the state directory', async () => {
    // Act
    const destroy = startRun(stateDir, ['--destroy']);
    const { code } = await destroy.exited;
    // Assess
    expect(code).toBe(0);
    await vi.waitFor(
      () => expect([emulators.dynamodb.pid, emulators.sqs.pid].map(running)).toEqual([false, false]),
      {
        timeout: 15_000,
      },
    );
    expect(existsSync(stateDir)).toBe(false);
  }, 60_000);
});
