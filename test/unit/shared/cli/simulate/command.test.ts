import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../../shared/cli/pipeline.ts';
import { writeAssembly, writePathStack } from '../../../../support/factories/write-path-template.ts';
import { memoryIo } from '../../../../support/fakes/memory-io.ts';

let dir: string;
const examples = resolve('shared/cli/advise/examples');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-simulate-'));
  await writeAssembly(join(dir, 'cdk.out'), [writePathStack()]);
  await writeAssembly(join(dir, 'no-writer'), [writePathStack({ environment: { TABLE_ROUTES: undefined } })]);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function simulateCli(args: string[]) {
  const io = memoryIo({ cwd: dir });
  const code = await runCli(['simulate', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

const quick = ['--duration', '10', '--drain', '10', '--cdk-out', 'cdk.out'];

describe('pipeline simulate', () => {
  it.each(['uniform', 'zipf-hot', 'append-log'])(
    'simulates the example workload %s and prints a table',
    async (name) => {
      // Act
      const { code, out } = await simulateCli([join(examples, `${name}.jsonl`), '--rate', '5000', ...quick]);
      // Assess
      expect(code).toBe(0);
      for (const label of [
        'throughput',
        'latency',
        'peak backlog',
        'Lambda',
        'DynamoDB',
        'cost (list prices)',
      ])
        expect(out).toMatch(new RegExp(`^${label.replace(/[()]/g, '\\$&')} `, 'm'));
    },
  );

  it('prints one JSON object, the same for the same seed', async () => {
    // Act
    const args = ['--count', '2000', '--keys', '500', '--rate', '3000', ...quick, '--json', '--seed', '5'];
    const a = await simulateCli(args);
    const b = await simulateCli(args);
    const other = await simulateCli([...args.slice(0, -1), '6']);
    // Assess
    expect(a.code).toBe(0);
    const doc = JSON.parse(a.out);
    expect(doc).toMatchObject({ ratePerSec: 3000, durationSeconds: 10, source: { name: 'synthetic' } });
    expect(doc.result.settings.eventSource).toEqual({
      batchSize: 1000,
      maxBatchingWindowSeconds: 1,
      maximumConcurrency: 10,
    });
    expect(b.out).toBe(a.out);
    expect(JSON.parse(other.out).result.messages.sent).not.toBe(doc.result.messages.sent);
  });

  it.each([
    [['--rate', '2000000'], /--rate 2000000: use 1 to 1,000,000 messages\/s/],
    [['--rate', '0'], /--rate.*expected a number > 0/],
    [['--rate', '1000', '--duration', '100000'], /--duration 100000: use at most 86400 s/],
    [['--rate', '1000', '--duration', 'soon'], /--duration.*expected a number > 0/],
  ])('refuses %j with exit status 2', async (flags, message) => {
    // Act
    const { code, err } = await simulateCli(['--count', '100', ...flags, '--cdk-out', 'cdk.out']);
    // Assess
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('refuses a missing cloud assembly, naming it', async () => {
    // Act
    const { code, err } = await simulateCli(['--count', '100', '--rate', '1000', '--cdk-out', 'nowhere']);
    // Assess
    expect(code).toBe(2);
    expect(err).toMatch(/error: --cdk-out nowhere: no manifest.json there/);
  });

  it('refuses an assembly without the batch writer', async () => {
    // Act
    const { code, err } = await simulateCli(['--count', '100', '--rate', '1000', '--cdk-out', 'no-writer']);
    // Assess
    expect(code).toBe(2);
    expect(err).toMatch(/--cdk-out no-writer: .*no stack holds the batch writer/);
  });

  it('notes a rate below the validated span', async () => {
    // Act
    const { code, out } = await simulateCli(['--count', '100', '--rate', '50', ...quick]);
    // Assess
    expect(code).toBe(0);
    expect(out).toMatch(/note: --rate 50 is below 1,000\/s/);
  });

  it.each(['report.svg', 'report.html'])('writes the report %s', async (file) => {
    // Act
    const { code } = await simulateCli(['--count', '500', '--rate', '2000', ...quick, '--report', file]);
    // Assess
    expect(code).toBe(0);
    const text = await readFile(join(dir, file), 'utf8');
    expect((await stat(join(dir, file))).size).toBeGreaterThan(1000);
    expect(text).toContain('<svg');
    expect(text).toContain('Backlog');
  });

  it('refuses a report that is neither .svg nor .html', async () => {
    // Act
    const { code, err } = await simulateCli([
      '--count',
      '100',
      '--rate',
      '1000',
      ...quick,
      '--report',
      'r.png',
    ]);
    // Assess
    expect(code).toBe(2);
    expect(err).toMatch(/--report .*r\.png: name a \.svg or \.html file/);
  });
});
