import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanTableSample } from '../../../shared/cli/advise/table-scan.ts';
import { runCli } from '../../../shared/cli/pipeline.ts';
import type { Message } from '../../../shared/contract/index.ts';
import { createTable } from '../../../shared/local/resources/write-path.ts';
import { memoryIo } from '../../support/fakes/memory-io.ts';
import { createQueue, sqsClient } from '../sqs/support.ts';

// `pipeline advise --from-table` on DynamoDB Local: a table's items, as the batch writer left them
// (versions, tombstones), measure as the same writes do in a JSONL sample.

const client = new DynamoDBClient({ maxAttempts: 1 });
let sqs: SQSClient;
let dir: string;
let tableName: string;
const tables: string[] = [];

/** 60 items: partition p0 holds half of them; every third is versioned, every tenth a tombstone. */
const ITEMS = 60;
function writeOf(i: number): Message {
  const pk = i < 30 ? 'p0' : `p${1 + (i % 5)}`;
  const sk = `s${String(i).padStart(2, '0')}`;
  const version = i % 3 === 0 || i % 10 === 0 ? { version: i + 1 } : {};
  if (i % 10 === 0) return { op: 'delete', key: { pk, sk }, version: i + 1 };
  return { op: 'put', item: { pk, sk, data: 'x'.repeat(20 + i * 7), n: i }, ...version };
}

/** What the batch writer stores for a write: the item with `_version`, or a tombstone. */
function storedItem(message: Message): Record<string, unknown> {
  const version = message.version === undefined ? {} : { _version: message.version };
  if (message.op === 'delete')
    return { ...message.key, ...version, _deleted: true, _expiresAt: 1_900_000_000 };
  return { ...message.item, ...version };
}

async function freshTable(prefix: string): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await createTable(client, { tableName: name, partitionKey: 'pk', sortKey: 'sk' });
  tables.push(name);
  return name;
}

async function advise(args: string[]) {
  const io = memoryIo({ cwd: dir });
  const code = await runCli(['advise', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  sqs = sqsClient();
  dir = await mkdtemp(join(tmpdir(), 'pipeline-advise-live-'));
  tableName = await freshTable('advise-live');
  for (let i = 0; i < ITEMS; i++) {
    await client.send(new PutItemCommand({ TableName: tableName, Item: marshall(storedItem(writeOf(i))) }));
  }
  await writeFile(
    join(dir, 'same.jsonl'),
    `${Array.from({ length: ITEMS }, (_, i) => JSON.stringify(writeOf(i))).join('\n')}\n`,
  );
  await writeFile(
    join(dir, 'routes.json'),
    JSON.stringify({ items: { tableName, partitionKey: 'pk', sortKey: 'sk' } }),
  );
  await writeFile(
    join(dir, 'elsewhere-routes.json'),
    JSON.stringify({ items: { tableName: 'other-table', partitionKey: 'pk', sortKey: 'sk' } }),
  );
  await writeFile(
    join(dir, 'orders-routes.json'),
    JSON.stringify({ orders: { tableName, partitionKey: 'pk', sortKey: 'sk' } }),
  );
});

afterAll(async () => {
  await Promise.all(tables.map((TableName) => client.send(new DeleteTableCommand({ TableName }))));
  client.destroy();
  sqs.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('pipeline advise --from-table', () => {
  it('measures the scanned items as the same writes measure in a JSONL sample', async () => {
    // Act
    const scan = await advise(['--from-table', tableName, '--rate', '5000', '--json']);
    const file = await advise(['same.jsonl', '--routes', 'routes.json', '--rate', '5000', '--json']);
    // Assess
    expect(scan.code).toBe(0);
    expect(file.code).toBe(0);
    const live = JSON.parse(scan.out);
    const jsonl = JSON.parse(file.out);
    const keyFigures = (k: {
      distinct: number;
      entropyBits: number;
      normalizedEntropy: number;
      hottestShare: number;
    }) => ({
      distinct: k.distinct,
      entropyBits: k.entropyBits,
      normalizedEntropy: k.normalizedEntropy,
      hottestShare: k.hottestShare,
    });
    expect(keyFigures(live.keys)).toEqual(keyFigures(jsonl.keys));
    expect(live.keys.distinct).toBe(ITEMS);
    // Ties among the other partitions list in arrival order, which a scan does not keep.
    expect(keyFigures(live.partitions)).toEqual(keyFigures(jsonl.partitions));
    expect(live.partitions.top[0]).toMatchObject({ partitionKey: 'p0', share: 0.5 });
    expect(live.itemBytes).toEqual(jsonl.itemBytes);
    expect(live.itemBytesHistogram).toEqual(jsonl.itemBytesHistogram);
    expect(live.messageBytes).toEqual(jsonl.messageBytes);
    expect(live.writeUnits).toEqual(jsonl.writeUnits);
    expect(live.tables).toEqual(jsonl.tables);
    const hot = (h: { table: string; partitionKey: string; writeUnitsPerSec: number; shards: number }[]) =>
      h.map(({ table, partitionKey, writeUnitsPerSec, shards }) => ({
        table,
        partitionKey,
        writeUnitsPerSec,
        shards,
      }));
    expect(hot(live.hotPartitions)).toEqual(hot(jsonl.hotPartitions));
    expect(live.hotPartitions[0]).toMatchObject({ table: 'items', partitionKey: 'p0' });
    expect(live.rejected).toEqual({});
    expect(live.versions).toMatchObject({ measurable: false, versioned: jsonl.versions.versioned });
    expect(live.duplicates).toMatchObject({ measurable: false, ratio: null });
    expect(live.recommendations.coalescing.reason).toMatch(
      /^duplicates are not measurable from a table scan/,
    );
    expect(live.live.table).toMatchObject({
      tableName,
      logical: 'items',
      partitionKey: 'pk',
      sortKey: 'sk',
      scanned: ITEMS,
      capped: false,
      tombstones: 6,
      versioned: jsonl.versions.versioned,
    });
    expect(live.source).toMatchObject({
      name: `table ${tableName}`,
      lines: ITEMS,
      writes: ITEMS,
      badLines: 0,
    });
    expect(live.notes.join('\n')).toMatch(/not measurable from it/);
  });

  it('prints the scan and the figures it cannot measure in the table for people', async () => {
    // Act
    const { code, out } = await advise(['--from-table', tableName, '--rate', '100']);
    // Assess
    expect(code).toBe(0);
    expect(out).toContain(`table ${tableName}: ${ITEMS} writes`);
    expect(out).toMatch(/duplicates\s+not measurable from a table scan/);
    expect(out).toMatch(/versions\s+\d+ versioned items; order not measurable from a table scan/);
    expect(out).toContain(`${tableName} as items (keys pk, sk): ${ITEMS} items scanned, `);
  });

  it('stops the scan at --sample items', async () => {
    // Act
    const { code, out } = await advise([
      '--from-table',
      tableName,
      '--sample',
      '25',
      '--rate',
      '100',
      '--json',
    ]);
    // Assess
    expect(code).toBe(0);
    const advice = JSON.parse(out);
    expect(advice.source).toMatchObject({ lines: 25, writes: 25 });
    expect(advice.live.table).toMatchObject({ scanned: 25, capped: true });
    expect(advice.notes.join('\n')).toMatch(/the scan stopped at --sample 25 items/);
  });

  it('reads page after page, and no further than the sample', async () => {
    // Act
    const capped = await scanTableSample({ client, tableName, sample: 25, pageItems: 7 });
    const whole = await scanTableSample({ client, tableName, sample: 1000, pageItems: 7 });
    // Assess
    expect(capped.figures).toMatchObject({ scanned: 25, pages: 4, capped: true });
    expect(capped.input.records).toHaveLength(25);
    expect(whole.figures).toMatchObject({ scanned: ITEMS, capped: false });
    expect(whole.input.records.map((r) => (r.kind === 'write' ? r.message : undefined))).toEqual(
      expect.arrayContaining(Array.from({ length: ITEMS }, (_, i) => writeOf(i))),
    );
  });

  it('analyses the items as the --routes route that names the table', async () => {
    // Act
    const { code, out } = await advise([
      '--from-table',
      tableName,
      '--routes',
      'orders-routes.json',
      '--rate',
      '5000',
      '--json',
    ]);
    // Assess
    expect(code).toBe(0);
    const advice = JSON.parse(out);
    expect(advice.live.table.logical).toBe('orders');
    expect(advice.hotPartitions[0]).toMatchObject({ table: 'orders', partitionKey: 'p0' });
  });

  it('takes the key schema as the route of a --logical table --routes does not name', async () => {
    // Act
    const args = ['--from-table', tableName, '--routes', 'orders-routes.json', '--logical', 'items'];
    const { code, out } = await advise([...args, '--rate', '5000', '--json']);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out).hotPartitions[0]).toMatchObject({ table: 'items', partitionKey: 'p0' });
  });

  it('refuses a --logical table that --routes sends to another table (exit 2)', async () => {
    // Act
    const args = ['--from-table', tableName, '--routes', 'elsewhere-routes.json'];
    const { code, out, err } = await advise([...args, '--logical', 'items', '--rate', '1']);
    // Assess
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(
      `--routes sends items to other-table; pass --logical <the route naming ${tableName}>`,
    );
  });

  it('fails with LIVE_FIGURES_UNAVAILABLE (exit 2) for a table that does not exist', async () => {
    // Act
    const { code, out, err } = await advise([
      '--from-table',
      `missing-${randomUUID().slice(0, 8)}`,
      '--rate',
      '1',
    ]);
    // Assess
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/DynamoDB DescribeTable: ResourceNotFoundException.*check --from-table/);
  });

  it('fails with LIVE_FIGURES_UNAVAILABLE (exit 1) when CloudWatch cannot be reached for --from-queue', async () => {
    // Prepare: a real local queue; CloudWatch pointed at a port nothing listens on.
    const queueUrl = await createQueue(sqs, 'advise-live');
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((done) => server.close(() => done()));
    const before = process.env.AWS_ENDPOINT_URL_CLOUDWATCH;
    process.env.AWS_ENDPOINT_URL_CLOUDWATCH = `http://127.0.0.1:${port}`;
    try {
      // Act
      const { code, out, err } = await advise(['--from-table', tableName, '--from-queue', queueUrl]);
      // Assess
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toMatch(/CloudWatch GetMetricData .* failed: .*--from-queue needs CloudWatch/);
    } finally {
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL_CLOUDWATCH;
      else process.env.AWS_ENDPOINT_URL_CLOUDWATCH = before;
    }
  });
});
