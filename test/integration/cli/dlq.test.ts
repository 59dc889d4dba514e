import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetQueueAttributesCommand,
  type Message,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { InspectReport } from '../../../shared/cli/dlq/inspect.ts';
import type { MoverSummary, RedriveSummary } from '../../../shared/cli/dlq/summary.ts';
import { runCli } from '../../../shared/cli/pipeline.ts';
import { writeStackFile } from '../../../shared/local/resources/stack-file.ts';
import { memoryIo } from '../../support/fakes/memory-io.ts';
import { createQueue, messageCount, receiveAll, sqsClient } from '../sqs/support.ts';

const repo = resolve(import.meta.dirname, '../../..');
let client: SQSClient;
let dir: string;

beforeAll(async () => {
  client = sqsClient();
  dir = await mkdtemp(join(tmpdir(), 'pipeline-dlq-it-'));
});

afterAll(async () => {
  client.destroy();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = memoryIo({ cwd: dir });
  const code = await runCli(['dlq', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

/** A source queue whose redrive policy names a new DLQ, as the stacks create them. */
async function queuePair(prefix: string, options: { fifo?: boolean } = {}) {
  const dlqUrl = await createQueue(client, `${prefix}-dlq`, options);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const sourceUrl = await createQueue(client, prefix, options);
  await client.send(
    new (await import('@aws-sdk/client-sqs')).SetQueueAttributesCommand({
      QueueUrl: sourceUrl,
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 100 }),
      },
    }),
  );
  return { dlqUrl, sourceUrl };
}

interface Letter {
  readonly body: string;
  readonly code?: string;
  readonly errorMessage?: string;
  readonly group?: string;
}

/** Sends dead letters as the pipeline's sink does (`code` undefined: as SQS's own maxReceiveCount move). */
async function deadLetter(queueUrl: string, letters: readonly Letter[]): Promise<void> {
  for (let start = 0; start < letters.length; start += 10) {
    const entries = letters.slice(start, start + 10).map((letter, i) => ({
      Id: String(i),
      MessageBody: letter.body,
      MessageAttributes: {
        Tenant: { DataType: 'String', StringValue: 'acme' },
        ...(letter.code === undefined
          ? {}
          : {
              ErrorCode: { DataType: 'String', StringValue: letter.code },
              ErrorMessage: {
                DataType: 'String',
                StringValue: letter.errorMessage ?? `${letter.code} reason`,
              },
              SourceMessageId: { DataType: 'String', StringValue: `src-${start + i}` },
            }),
      },
      ...(letter.group ? { MessageGroupId: letter.group, MessageDeduplicationId: `d-${start + i}` } : {}),
    }));
    const { Failed = [] } = await client.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    expect(Failed).toEqual([]);
  }
}

const letters = (n: number, code?: string, prefix = 'm'): Letter[] =>
  Array.from({ length: n }, (_, i) => ({
    body: JSON.stringify({ op: 'put', item: { pk: `${prefix}${i}`, sk: '1', pad: 'x'.repeat(50) } }),
    ...(code ? { code } : {}),
  }));

const bodiesOf = (messages: readonly Message[]) => messages.map((m) => m.Body!).sort();

describe('pipeline dlq inspect', () => {
  it('counts by ErrorCode with samples, shows no body unless asked, and leaves every message there', async () => {
    // Prepare
    const { dlqUrl } = await queuePair('inspect');
    await deadLetter(dlqUrl, [
      ...letters(4, 'UNKNOWN_TABLE', 'a'),
      ...letters(2, 'INVALID_JSON', 'b'),
      ...letters(1, undefined, 'c'),
    ]);
    // Act
    const text = await cli(['inspect', '--queue', dlqUrl, '--samples', '2']);
    const json = await cli(['inspect', '--queue', dlqUrl, '--json', '--show-body', '--body-chars', '12']);
    // Assess
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/UNKNOWN_TABLE\s+4/);
    expect(text.out).toMatch(/INVALID_JSON\s+2/);
    expect(text.out).toMatch(/\(none: maxReceiveCount\)\s+1/);
    expect(text.out).toContain('UNKNOWN_TABLE reason');
    expect(text.out).not.toContain('"op"');
    const report = JSON.parse(json.out) as InspectReport;
    expect(report).toMatchObject({ inspected: 7, complete: true, approximateMessages: 7 });
    expect(report.codes.map((c) => [c.code, c.count])).toEqual([
      ['UNKNOWN_TABLE', 4],
      ['INVALID_JSON', 2],
      ['none', 1],
    ]);
    expect(report.codes[0]!.samples).toHaveLength(3);
    expect(report.codes[0]!.samples[0]).toMatchObject({
      errorMessage: 'UNKNOWN_TABLE reason',
      bodyPreview: '{"op":"put",',
      bodyTruncated: true,
    });
    // Handed back at once: a consumer sees all of them again.
    expect(await receiveAll(client, dlqUrl)).toHaveLength(7);
  });
});

describe('pipeline dlq redrive', () => {
  it('moves a whole DLQ back to its source queue with an SQS message move task', async () => {
    // Prepare
    const { dlqUrl, sourceUrl } = await queuePair('task');
    await deadLetter(dlqUrl, letters(12, 'UNKNOWN_TABLE'));
    // Act: the destination comes from ListDeadLetterSourceQueues.
    const { code, out } = await cli(['redrive', '--queue', dlqUrl, '--rate', '50', '--json']);
    // Assess
    expect(code).toBe(0);
    const summary = JSON.parse(out) as RedriveSummary;
    expect(summary).toMatchObject({
      method: 'move-task',
      destination: sourceUrl,
      task: { status: 'COMPLETED', moved: 12 },
    });
    expect(bodiesOf(await receiveAll(client, sourceUrl))).toEqual(bodiesOf(letters(12, 'X').map(toMessage)));
    expect(await messageCount(client, dlqUrl)).toBe(0);
  });

  it('moves only the filtered codes with the mover; the rest stay, visible at once', async () => {
    // Prepare
    const { dlqUrl, sourceUrl } = await queuePair('filter');
    const stackFile = join(dir, 'filter-stack.json');
    const { region, sqs, dynamodb } = inject('localAws');
    await writeStackFile(
      { region, endpoints: { sqs, dynamodb }, queues: { ingest: { url: sourceUrl, dlqUrl } }, tables: {} },
      stackFile,
    );
    await deadLetter(dlqUrl, [
      ...letters(5, 'UNKNOWN_TABLE', 'u'),
      ...letters(3, 'INVALID_JSON', 'j'),
      ...letters(2, undefined, 'n'),
    ]);
    // Act
    const dry = await cli([
      'redrive',
      '--dlq',
      'ingest',
      '--stack-file',
      stackFile,
      '--filter',
      'code=UNKNOWN_TABLE,none',
      '--dry-run',
      '--json',
    ]);
    const { code, out } = await cli([
      'redrive',
      '--dlq',
      'ingest',
      '--stack-file',
      stackFile,
      '--filter',
      'code=UNKNOWN_TABLE,none',
      '--json',
    ]);
    // Assess
    expect(JSON.parse(dry.out)).toMatchObject({
      dryRun: true,
      moved: 7,
      left: 3,
      byCode: { UNKNOWN_TABLE: 5, none: 2 },
    });
    expect(code).toBe(0);
    const summary = JSON.parse(out) as MoverSummary;
    expect(summary).toMatchObject({ method: 'mover', moved: 7, left: 3, failed: 0, possiblyDuplicated: [] });
    expect(summary.journal).toBeUndefined();
    const moved = await receiveAll(client, sourceUrl);
    expect(bodiesOf(moved)).toEqual(
      bodiesOf([...letters(5, 'X', 'u'), ...letters(2, undefined, 'n')].map(toMessage)),
    );
    const carried = moved.find((m) => m.MessageAttributes?.SourceMessageId)!;
    expect(Object.keys(carried.MessageAttributes!).sort()).toEqual([
      'RedriveCount',
      'RedriveSourceMessageId',
      'SourceMessageId',
      'Tenant',
    ]);
    expect(carried.MessageAttributes!.RedriveCount!.StringValue).toBe('1');
    const stayed = await receiveAll(client, dlqUrl);
    expect(bodiesOf(stayed)).toEqual(bodiesOf(letters(3, 'X', 'j').map(toMessage)));
  });

  it('keeps FIFO groups and their order, and throttles to --rate', async () => {
    // Prepare
    const { dlqUrl, sourceUrl } = await queuePair('fifo', { fifo: true });
    const input = Array.from({ length: 20 }, (_, i) => ({
      body: `g${i % 2}-${i}`,
      code: 'X',
      group: `g${i % 2}`,
    }));
    await deadLetter(dlqUrl, input);
    // Act
    const started = performance.now();
    const { code, out } = await cli([
      'redrive',
      '--queue',
      dlqUrl,
      '--to',
      sourceUrl,
      '--mover',
      '--rate',
      '10/s',
      '--json',
    ]);
    const elapsed = performance.now() - started;
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ moved: 20 });
    // 10 tokens at the start, then 10 a second.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    const received = await receiveAll(client, sourceUrl);
    for (const group of ['g0', 'g1']) {
      const inGroup = received.filter((m) => m.Attributes?.MessageGroupId === group).map((m) => m.Body);
      expect(inGroup).toEqual(input.filter((l) => l.group === group).map((l) => l.body));
    }
  });
});

function toMessage(letter: Letter): Message {
  return { Body: letter.body };
}

/** Where a child redrive kills itself (SIGKILL): before or after the n-th request of a kind reaches SQS. */
type CrashPoint = 'before-send' | 'after-send' | 'before-delete' | 'after-delete';

/** Runs the mover in a child process that SIGKILLs itself at `point` of its second batch. */
async function crashingRedrive(source: string, destination: string, journal: string, point: CrashPoint) {
  const script = join(dir, `crash-${point}-${Date.now()}.mts`);
  const [when, kind] = point.split('-') as ['before' | 'after', 'send' | 'delete'];
  const command = kind === 'send' ? 'SendMessageBatchCommand' : 'DeleteMessageBatchCommand';
  await writeFile(
    script,
    `
import { createRequire } from 'node:module';
import { RedriveJournal } from ${JSON.stringify(join(repo, 'shared/cli/dlq/journal.ts'))};
import { Mover } from ${JSON.stringify(join(repo, 'shared/cli/dlq/mover.ts'))};
const { SQSClient } = createRequire(${JSON.stringify(join(repo, 'package.json'))})('@aws-sdk/client-sqs');
const client = new SQSClient({ maxAttempts: 1 });
let calls = 0;
client.middlewareStack.add((next, context) => async (args) => {
  if (context.commandName !== ${JSON.stringify(command)}) return next(args);
  const crash = ++calls === 2;
  if (crash && ${JSON.stringify(when)} === 'before') process.kill(process.pid, 'SIGKILL');
  const result = await next(args);
  if (crash) process.kill(process.pid, 'SIGKILL');
  return result;
}, { step: 'initialize' });
const journal = RedriveJournal.open(${JSON.stringify(journal)}, { source: ${JSON.stringify(source)}, destination: ${JSON.stringify(destination)} });
await new Mover({ client, source: ${JSON.stringify(source)}, destination: ${JSON.stringify(destination)}, journal, visibilityTimeoutS: 300 }).run();
journal.close();
`,
  );
  return runChild([script]);
}

/** Runs a TypeScript file in one Node.js process (the `tsx` CLI would add a second that SIGKILL misses). */
function runChild(argv: string[], onSpawn?: (kill: () => void) => void) {
  return new Promise<NodeJS.Signals | null>((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...argv], {
      cwd: repo,
      env: process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`child exited ${code}: ${stderr}`));
      else resolvePromise(signal);
    });
    onSpawn?.(() => child.kill('SIGKILL'));
  });
}

describe('pipeline dlq redrive after a crash', () => {
  it.each([
    ['before-send', false, { duplicated: 0, suspected: 10, resumed: 0 }],
    ['after-send', false, { duplicated: 10, suspected: 10, resumed: 0 }],
    ['after-send', true, { duplicated: 0, suspected: 0, resumed: 0 }],
    ['before-delete', false, { duplicated: 0, suspected: 0, resumed: 10 }],
    ['after-delete', false, { duplicated: 0, suspected: 0, resumed: 0 }],
  ] as const)(
    'killed %s (FIFO: %s), a rerun ends with the DLQ empty and every message at the destination',
    async (point, fifo, expected) => {
      // Prepare
      const { dlqUrl, sourceUrl } = await queuePair(`crash-${point}`, { fifo });
      const input = letters(25, 'UNKNOWN_TABLE').map((l, i) => (fifo ? { ...l, group: `g${i % 3}` } : l));
      await deadLetter(dlqUrl, input);
      const journal = join(dir, `journal-${point}-${fifo}.jsonl`);
      // Act
      const signal = await crashingRedrive(dlqUrl, sourceUrl, journal, point);
      expect(signal).toBe('SIGKILL');
      const crashedJournal = await readFile(journal, 'utf8');
      expect(crashedJournal).toContain('"t":"intent"');
      const rerun = await cli([
        'redrive',
        '--queue',
        dlqUrl,
        '--to',
        sourceUrl,
        '--mover',
        '--journal',
        journal,
        '--json',
      ]);
      // Assess
      expect(rerun.code).toBe(0);
      const summary = JSON.parse(rerun.out) as MoverSummary;
      expect(summary.possiblyDuplicated).toHaveLength(expected.suspected);
      expect(summary.resumed).toBe(expected.resumed);
      expect(summary.journal).toBeUndefined();
      expect(await messageCount(client, dlqUrl)).toBe(0);
      const received = await receiveAll(client, sourceUrl);
      // What to look at if this ever fails: the crashed run's journal, the rerun's summary and what arrived.
      const diagnosis = [
        `journal after the crash:\n${crashedJournal}`,
        `rerun: ${rerun.out} ${rerun.err}`,
        `received: ${JSON.stringify(received.map((m) => [m.Body, m.MessageAttributes?.RedriveSourceMessageId?.StringValue]))}`,
      ].join('\n');
      expect(new Set(bodiesOf(received)), diagnosis).toEqual(new Set(bodiesOf(input.map(toMessage))));
      expect(received).toHaveLength(input.length + expected.duplicated);
      // Any copy is of a message the rerun named as possibly duplicated.
      const copies = received.map((m) => m.MessageAttributes?.RedriveSourceMessageId?.StringValue ?? '');
      const twice = copies.filter((id, i) => copies.indexOf(id) !== i);
      for (const id of twice) expect(summary.possiblyDuplicated).toContain(id);
    },
  );

  it('a redrive killed at a random moment and run again loses nothing, and names any copy it may have made', async () => {
    // Prepare
    const { dlqUrl, sourceUrl } = await queuePair('crash-random');
    const input = letters(60, 'UNKNOWN_TABLE');
    await deadLetter(dlqUrl, input);
    const journal = join(dir, 'journal-random.jsonl');
    const args = ['redrive', '--queue', dlqUrl, '--to', sourceUrl, '--mover', '--journal', journal, '--json'];
    // Act: kill the real CLI once it has sent some messages.
    const signal = await runChild(
      [join(repo, 'shared/cli/pipeline.ts'), 'dlq', ...args, '--rate', '40', '--visibility-timeout', '2'],
      (kill) => {
        void (async () => {
          for (;;) {
            const text = await readFile(journal, 'utf8').catch(() => '');
            if ((text.match(/"t":"sent"/g) ?? []).length >= 15) return kill();
            await sleep(10);
          }
        })();
      },
    );
    const killedAt = performance.now();
    expect(signal).toBe('SIGKILL');
    const reruns = [await cli(args)];
    // A kill between a receive's answer and its journal line leaves those messages hidden, with no
    // record, until their visibility timeout ends (2 s here): a run after that moves them.
    await sleep(Math.max(0, 2500 - (performance.now() - killedAt)));
    reruns.push(await cli(args));
    // Assess
    for (const rerun of reruns) expect({ code: rerun.code, err: rerun.err }).toEqual({ code: 0, err: '' });
    const suspected = reruns.flatMap((rerun) => (JSON.parse(rerun.out) as MoverSummary).possiblyDuplicated);
    expect(await messageCount(client, dlqUrl)).toBe(0);
    const received = await receiveAll(client, sourceUrl);
    expect(new Set(bodiesOf(received))).toEqual(new Set(bodiesOf(input.map(toMessage))));
    const copies = received.map((m) => m.MessageAttributes?.RedriveSourceMessageId?.StringValue ?? '');
    const twice = copies.filter((id, i) => copies.indexOf(id) !== i);
    expect(received.length - input.length).toBe(twice.length);
    for (const id of twice) expect(suspected).toContain(id);
  });
});
