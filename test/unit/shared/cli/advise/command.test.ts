import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WritePathContextSchema } from '../../../../../infra/context-props.ts';
import { runCli } from '../../../../../shared/cli/pipeline.ts';
import { memoryIo } from '../../../../support/fakes/memory-io.ts';

let dir: string;
const line = (pk: string, sk: string, at: number) =>
  JSON.stringify({ sentAt: at, message: { op: 'put', item: { pk, sk } } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-advise-'));
  // 8 of 10 writes to partition key "hot" over one second: 10 messages/s in the sample.
  const timed = [
    ...Array.from({ length: 8 }, (_, i) => line('hot', `s${i}`, i * 100)),
    line('cold', 'c0', 850),
    line('cold', 'c1', 900),
  ];
  await writeFile(join(dir, 'timed.jsonl'), `${timed.join('\n')}\n`);
  await writeFile(
    join(dir, 'untimed.jsonl'),
    '{"op":"put","item":{"pk":"a","sk":"1"}}\n{"op":"put","item":{"pk":"b","sk":"1"}}\n',
  );
  await writeFile(
    join(dir, 'bad-line.jsonl'),
    [
      '{"op":"put","item":{"pk":"a","sk":"1"}}',
      '',
      '{"op":"put"',
      '{"op":"put","item":{"pk":"b","sk":"1"}}',
    ].join('\n'),
  );
  await writeFile(join(dir, 'all-bad.jsonl'), 'nope\n{"op":"upsert"}\n');
  await writeFile(join(dir, 'empty.jsonl'), '\n\n');
  await writeFile(
    join(dir, 'routes.json'),
    JSON.stringify({
      items: { tableName: 'pipeline-items', partitionKey: 'pk', sortKey: 'sk', ops: ['put'] },
    }),
  );
  await writeFile(
    join(dir, 'bad-routes.json'),
    JSON.stringify({ items: { tableName: 'x', partitionKey: 'pk' } }),
  );
  await mkdir(join(dir, 'a-directory'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function advise(args: string[], stdin?: string) {
  const io = memoryIo({ cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
  const code = await runCli(['advise', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe('pipeline advise --json', () => {
  it('prints one object with the contract fields, the hot partition and its shards at --rate', async () => {
    // Act: 10/s in the sample scaled to 2,000/s: "hot" takes 8/10 × 2,000 × 1 WCU = 1,600 WCU/s.
    const { code, out } = await advise(['timed.jsonl', '--rate', '2000', '--json']);
    // Assess
    expect(code).toBe(0);
    const advice = JSON.parse(out);
    expect(advice).toMatchObject({
      schemaVersion: 1,
      rate: 2000,
      rateSource: 'flag',
      keys: { distinct: 10, entropyBits: expect.closeTo(Math.log2(10), 3) },
      partitions: { distinct: 2 },
      hotPartitions: [{ table: 'items', partitionKey: 'hot', writeUnitsPerSec: 1600, shards: 2 }],
      source: { name: 'timed.jsonl', lines: 10, writes: 10, badLines: 0, timestamps: true },
    });
    expect(Object.keys(advice.recommendations).sort()).toEqual([
      'batch',
      'coalescing',
      'eventSource',
      'gpu',
      'memoryMiB',
      'sharding',
      'warmThroughput',
      'writeConcurrency',
    ]);
    for (const recommendation of Object.values(advice.recommendations) as {
      driver: unknown;
      reason: unknown;
    }[]) {
      expect(recommendation).toMatchObject({
        driver: { figure: expect.any(String), value: expect.any(Number) },
        reason: expect.any(String),
      });
    }
    expect(advice.recommendations.memoryMiB.measured).toBe(true);
  });

  it("takes the sample's own rate when --rate is not given", async () => {
    const { code, out } = await advise(['timed.jsonl', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ rate: 10, rateSource: 'sample', hotPartitions: [] });
  });

  it('reads stdin for -', async () => {
    const { code, out } = await advise(
      ['-', '--rate', '100', '--json'],
      '{"op":"put","item":{"pk":"a","sk":"1"}}\n',
    );
    expect(code).toBe(0);
    expect(JSON.parse(out).source).toMatchObject({ name: 'stdin', writes: 1 });
  });

  it('analyses the synthetic workload of pipeline send', async () => {
    const { code, out } = await advise(['--count', '500', '--keys', '50', '--rate', '1000', '--json']);
    expect(code).toBe(0);
    const advice = JSON.parse(out);
    expect(advice.source).toMatchObject({ name: 'synthetic', writes: 500 });
    expect(advice.keys.distinct).toBe(50);
  });
});

describe('pipeline advise as a table', () => {
  it('prints the figures, the hot partitions and each recommendation with its driver', async () => {
    const { code, out } = await advise(['timed.jsonl', '--rate', '2000']);
    expect(code).toBe(0);
    expect(out).toContain('pipeline advise — timed.jsonl: 10 writes, 0 reads, 0 bad line(s)');
    expect(out).toMatch(
      /hot partitions \(over 1,000 WCU\/s at 2,000 messages\/s\)\n\s+table\s+partition key.*\n\s+items\s+hot\s+1,600/,
    );
    expect(out).toMatch(
      /sharding\s+items "hot" → 2 shards by sortKeyHash\n\s+← hottest partition write units\/s 1,600 WCU\/s/,
    );
    expect(out).toMatch(/Lambda memory\s+512 MiB\n\s+← peak heap per batch \(measured\)/);
  });
});

describe('pipeline advise input errors (exit 2)', () => {
  it.each([
    [['missing.jsonl', '--rate', '10'], /^error: cannot read missing\.jsonl: ENOENT/],
    [['a-directory', '--rate', '10'], /^error: cannot read a-directory: not a regular file/],
    [['empty.jsonl', '--rate', '10'], /^error: empty\.jsonl has no lines to analyse/],
    [
      ['all-bad.jsonl', '--rate', '10'],
      /^error: none of the 2 lines of all-bad\.jsonl is usable \(line 1: not valid JSON/,
    ],
    [
      ['bad-line.jsonl', '--rate', '10', '--strict'],
      /^error: bad-line\.jsonl:3: not valid JSON.*\(--strict\)/,
    ],
    [
      ['untimed.jsonl'],
      /^error: untimed\.jsonl: rate: got unknown; the sample has no sentAt timestamps: pass --rate <messages\/s>/,
    ],
    [
      ['timed.jsonl', '--rate', '0'],
      /option '--rate <messages\/s>' argument '0' is invalid\. expected a number > 0/,
    ],
    [['timed.jsonl', '--rate', 'fast'], /argument 'fast' is invalid\. expected a number > 0/],
    [['timed.jsonl', '--versioned-writes', 'maybe'], /expected transaction or conditional-put/],
    [[], /nothing to analyse: give a JSONL sample, - for stdin, or --count <n>/],
    [['timed.jsonl', '--count', '5'], /not both/],
    [['timed.jsonl', '--keys', '5'], /--keys apply to synthetic workloads \(--count\) only/],
    [
      ['timed.jsonl', '--gpu-jobs-per-sec', '5'],
      /--gpu-jobs-per-sec and --gpu-task-jobs-per-sec go together/,
    ],
    [['timed.jsonl', '--routes', 'bad-routes.json'], /^error: --routes bad-routes\.json: items\.tableName: /],
    [['timed.jsonl', '--routes', 'nope.json'], /^error: cannot read nope\.json/],
    [['timed.jsonl', '--report', 'out.png'], /^error: --report .*out\.png: name a \.svg or \.html file/],
  ])('%j', async (args, message) => {
    const { code, out, err } = await advise(args);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(out).toBe('');
  });

  it('counts a bad line, names it, and analyses the rest', async () => {
    const { code, out } = await advise(['bad-line.jsonl', '--rate', '10', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out).source).toMatchObject({
      lines: 3,
      writes: 2,
      badLines: 1,
      badLineSamples: [{ line: 3, reason: expect.stringMatching(/^not valid JSON/) }],
    });
  });
});

describe('pipeline advise outputs', () => {
  it('writes a CDK context file the app takes', async () => {
    const { code } = await advise(['timed.jsonl', '--rate', '2000', '--context-file', 'advice.json']);
    expect(code).toBe(0);
    const context = JSON.parse(await readFile(join(dir, 'advice.json'), 'utf8'));
    expect(WritePathContextSchema.parse(context.writePath)).toEqual({
      batchSize: 400,
      maxBatchingWindowSeconds: 1,
      maxConcurrency: 2,
      memoryMiB: 512,
      writeConcurrency: 4,
    });
    expect(context.gpuInference).toBeUndefined();
  });

  it('adds the GPU stack and warm throughput when they are advised', async () => {
    const args = [
      'timed.jsonl',
      '--rate',
      '5000',
      '--gpu-jobs-per-sec',
      '100',
      '--gpu-task-jobs-per-sec',
      '50',
    ];
    const { code } = await advise([...args, '--context-file', 'gpu.json']);
    expect(code).toBe(0);
    const context = JSON.parse(await readFile(join(dir, 'gpu.json'), 'utf8'));
    expect(context.gpuInference).toEqual({ messagesPerTask: 187, maxInstances: 3 });
    expect(context.writePath.tableWarmThroughput).toEqual({ writeUnitsPerSecond: 6000 });
  });

  it('takes the routing of a --routes file (physical table, put-only: round-robin shards)', async () => {
    const { out } = await advise(['timed.jsonl', '--rate', '2000', '--routes', 'routes.json', '--json']);
    const advice = JSON.parse(out);
    expect(advice.hotPartitions).toMatchObject([
      { tableName: 'pipeline-items', by: 'roundRobin', shards: 2 },
    ]);
    expect(advice.tables.map((t: { table: string }) => t.table)).toEqual(['pipeline-items']);
  });

  it.each(['svg', 'html'])('writes a .%s report with the charts and the recommendations', async (format) => {
    const { code } = await advise(['timed.jsonl', '--rate', '2000', '--report', `report.${format}`]);
    expect(code).toBe(0);
    const report = await readFile(join(dir, `report.${format}`), 'utf8');
    expect(report).toContain('<svg');
    expect(report).toContain('Rate over time');
    expect(report).toContain('Hot partitions at 2,000 messages/s');
    expect(report).toMatch(/sharding: hot: 2 by sortKeyHash|<th>sharding<\/th><td>hot: 2 by sortKeyHash/);
  });
});
