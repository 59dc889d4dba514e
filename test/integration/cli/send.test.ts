import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../../shared/cli/pipeline.ts';
import type { SendSummary } from '../../../shared/cli/send/summary.ts';
import { parseMessage } from '../../../shared/contract/message.ts';
import { writeStackFile } from '../../../shared/local/resources/stack-file.ts';
import { memoryIo } from '../../support/fakes/memory-io.ts';
import { startOtlpCollector } from '../../support/otlp-collector.ts';
import { createQueue, messageCount, receiveAll, sqsClient } from '../sqs/support.ts';

let client: SQSClient;
let dir: string;

beforeAll(async () => {
  client = sqsClient();
  dir = await mkdtemp(join(tmpdir(), 'pipeline-send-it-'));
});

afterAll(async () => {
  client.destroy();
  await rm(dir, { recursive: true, force: true });
});

const line = (i: number) => JSON.stringify({ op: 'put', item: { pk: `k${i}`, sk: '1', i } });

async function send(args: string[], stdin?: string) {
  const io = memoryIo({ cwd: dir, stdin });
  const code = await runCli(['send', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe('pipeline send', () => {
  it('sends every line of a JSONL file and prints a JSON summary', async () => {
    // Prepare
    const queueUrl = await createQueue(client, 'cli-file');
    await writeFile(
      join(dir, 'good.jsonl'),
      `${Array.from({ length: 25 }, (_, i) => line(i)).join('\n')}\n\n`,
    );
    // Act
    const { code, out, err } = await send(['good.jsonl', '--queue-url', queueUrl, '--json']);
    // Assess
    expect(code).toBe(0);
    const summary = JSON.parse(out) as SendSummary;
    // How lines group into requests depends on the 10 ms send timer; the contract is ≤ 10 entries a
    // request and every line sent once.
    expect(summary).toMatchObject({ queueUrl, sent: 25, failed: 0, retries: 0, interrupted: false });
    expect(summary.requests).toBeGreaterThanOrEqual(3);
    expect(summary.entriesPerRequest).toBeLessThanOrEqual(10);
    expect(summary.source).toMatch(/good\.jsonl$/);
    expect(err).not.toContain('error');
    const bodies = (await receiveAll(client, queueUrl)).map((m) => m.Body);
    expect(bodies.sort()).toEqual(Array.from({ length: 25 }, (_, i) => line(i)).sort());
  });

  it('sends nothing from a file with a malformed line, and names the line', async () => {
    // Prepare
    const queueUrl = await createQueue(client, 'cli-bad-file');
    await writeFile(join(dir, 'bad.jsonl'), [line(1), line(2), '{"op":"put",', line(4)].join('\n'));
    // Act
    const { code, out, err } = await send(['bad.jsonl', '--queue-url', queueUrl]);
    // Assess
    expect(code).toBe(2);
    expect(err).toMatch(/bad\.jsonl:3: not valid JSON.*\(nothing was sent\)/);
    expect(out).toBe('');
    expect(await messageCount(client, queueUrl)).toBe(0);
  });

  it('stops stdin at a malformed line, having sent exactly the lines before it', async () => {
    // Prepare
    const queueUrl = await createQueue(client, 'cli-bad-stdin');
    const input = [line(1), line(2), line(3), '{"op":"put","item":{"pk":"x"},"version":-1}', line(5)].join(
      '\n',
    );
    // Act
    const { code, out, err } = await send(['-', '--queue-url', queueUrl], input);
    // Assess
    expect(code).toBe(2);
    expect(err).toContain(
      'stdin:4: INVALID_VERSION: version: must be ≥ 0 (stopped there: the 3 message(s) before it were sent, nothing after it)',
    );
    expect(out).toContain('sent 3 message(s)');
    const bodies = (await receiveAll(client, queueUrl)).map((m) => m.Body);
    expect(bodies.sort()).toEqual([line(1), line(2), line(3)].sort());
  });

  it('sends a synthetic workload with invalid messages the batch writer will reject', async () => {
    // Prepare
    const queueUrl = await createQueue(client, 'cli-synthetic');
    // Act
    const { code, out } = await send([
      '--queue-url',
      queueUrl,
      '--count',
      '300',
      '--key-dist',
      'zipf:1.1',
      '--keys',
      '50',
      '--versions',
      '--shuffle-versions',
      '--invalid-rate',
      '0.2',
      '--item-bytes',
      '500',
      '--json',
    ]);
    // Assess
    expect(code).toBe(0);
    const summary = JSON.parse(out) as SendSummary;
    expect(summary).toMatchObject({ sent: 300, failed: 0, seed: 1 });
    expect(summary.invalidSent).toBeGreaterThan(20);
    const received = await receiveAll(client, queueUrl);
    expect(received).toHaveLength(300);
    const invalid = received.filter((m) => {
      try {
        return parseMessage(m.Body!).table === 'no_such_table';
      } catch {
        return true;
      }
    });
    expect(invalid).toHaveLength(summary.invalidSent);
  });

  it('resolves --queue from the stack file and spreads FIFO messages over --fifo-groups', async () => {
    // Prepare
    const queueUrl = await createQueue(client, 'cli-fifo', { fifo: true });
    const { region, sqs, dynamodb } = inject('localAws');
    await writeStackFile(
      { region, endpoints: { sqs, dynamodb }, queues: { orders: { url: queueUrl } }, tables: {} },
      join(dir, '.local', 'stack.json'),
    );
    // Act
    const { code, out } = await send([
      '--queue',
      'orders',
      '--count',
      '60',
      '--fifo-groups',
      '4',
      '--versions',
    ]);
    // Assess
    expect(code).toBe(0);
    expect(out).toContain('sent 60 message(s)');
    const received = await receiveAll(client, queueUrl);
    expect(received).toHaveLength(60);
    const groups = new Set(received.map((m) => m.Attributes?.MessageGroupId));
    expect(groups.size).toBeLessThanOrEqual(4);
    // Each key's versions arrive in order, since a key always maps to the same group.
    const versions = new Map<string, number[]>();
    for (const m of received) {
      const message = parseMessage(m.Body!);
      const key = String(message.op === 'put' && message.item.pk);
      versions.set(key, [...(versions.get(key) ?? []), message.version!]);
    }
    for (const list of versions.values()) expect(list).toEqual([...list].sort((a, b) => a - b));
  });

  it('exits 1 and names the reason when messages cannot be sent', async () => {
    const queueUrl = (await createQueue(client, 'cli-gone')).replace(/cli-gone-[^/]+$/, 'cli-never-created');
    const { code, out } = await send(['--queue-url', queueUrl, '--count', '5']);
    expect(code).toBe(1);
    expect(out).toMatch(/failed 5: \S*(NonExistentQueue|QueueDoesNotExist)\S* ×5/);
  });

  it("puts the caller's --traceparent on every message, and nothing without it", async () => {
    // Prepare
    const queueUrl = await createQueue(client, 'cli-trace');
    const traceparent = `00-${'4bf92f3577b34da6a3ce929d0e0e4736'}-00f067aa0ba902b7-01`;
    // Act
    const traced = await send([
      '--count',
      '12',
      '--traceparent',
      traceparent,
      '--queue-url',
      queueUrl,
      '--json',
    ]);
    const tracedMessages = await receiveAll(client, queueUrl);
    await send(['--count', '3', '--queue-url', queueUrl, '--json']);
    const plainMessages = await receiveAll(client, queueUrl);
    // Assess
    expect(traced.code).toBe(0);
    expect(JSON.parse(traced.out)).toMatchObject({ sent: 12, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(tracedMessages.map((m) => m.MessageAttributes?.traceparent?.StringValue)).toEqual(
      Array.from({ length: 12 }, () => traceparent),
    );
    expect(plainMessages).toHaveLength(3);
    expect(plainMessages.map((m) => m.MessageAttributes)).toEqual([undefined, undefined, undefined]);
  });

  it('with an OTLP endpoint set, covers the run with a `pipeline send` span under --traceparent that every message carries', async () => {
    // Prepare
    const queueUrl = await createQueue(client, 'cli-trace-export');
    const collector = await startOtlpCollector();
    const caller = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
    // Act
    let result: Awaited<ReturnType<typeof send>>;
    try {
      result = await send([
        '--count',
        '5',
        '--traceparent',
        `00-${caller.traceId}-${caller.spanId}-01`,
        '--queue-url',
        queueUrl,
        '--json',
      ]);
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      await collector.close();
    }
    const messages = await receiveAll(client, queueUrl);
    // Assess
    const [span, ...others] = collector.spans();
    expect(others).toEqual([]);
    expect(span).toMatchObject({
      service: 'pipeline-send',
      name: 'pipeline send',
      kind: 4,
      traceId: caller.traceId,
      parentSpanId: caller.spanId,
      attributes: { 'pipeline.messages.sent': 5, 'pipeline.messages.failed': 0 },
    });
    expect(JSON.parse(result.out)).toMatchObject({ sent: 5, traceId: caller.traceId });
    expect(new Set(messages.map((m) => m.MessageAttributes?.traceparent?.StringValue))).toEqual(
      new Set([`00-${caller.traceId}-${span!.spanId}-01`]),
    );
  });
});
