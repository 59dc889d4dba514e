import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../shared/core/random.ts';
import { createTable } from '../../../shared/local/resources/write-path.ts';
import {
  type StaleOutcome,
  type TableTarget,
  WriteBatcher,
  type WriteRequest,
} from '../../../shared/write-batcher/index.ts';

// Version-guarded writes on DynamoDB Local, both ways they can go (transactions of conditional puts,
// one conditional PutItem each), from several batchers racing on the same keys: the highest version
// of each key wins, tombstones included, and every write gets an outcome.

const KEYS = 150;
const VERSIONS = 6;
const client = new DynamoDBClient({ maxAttempts: 1 });
const tables: string[] = [];

async function freshTable(): Promise<TableTarget> {
  const tableName = `versioned-${randomUUID().slice(0, 8)}`;
  await createTable(client, { tableName, partitionKey: 'pk', sortKey: 'sk' });
  tables.push(tableName);
  return { tableName, partitionKey: 'pk', sortKey: 'sk' };
}

/** Every (key, version) once, shuffled, split over `writers`; the highest version of each third key deletes it. */
function workload(target: TableTarget, writers: number): WriteRequest[][] {
  const random = mulberry32(7);
  const requests: WriteRequest[] = [];
  for (let k = 0; k < KEYS; k++) {
    for (let version = 1; version <= VERSIONS; version++) {
      const pk = `k${k}`;
      requests.push(
        version === VERSIONS && k % 3 === 0
          ? { op: 'delete', target, key: { pk, sk: 's' }, version }
          : { op: 'put', target, item: { pk, sk: 's', version }, version },
      );
    }
  }
  for (let i = requests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [requests[i], requests[j]] = [requests[j]!, requests[i]!];
  }
  return Array.from({ length: writers }, (_, w) => requests.filter((_, i) => i % writers === w));
}

function keyOfRequest(request: WriteRequest): string {
  return String(request.op === 'put' ? request.item.pk : request.key.pk);
}

async function stored(tableName: string): Promise<Map<string, Record<string, unknown>>> {
  const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return new Map((page.Items ?? []).map((raw) => unmarshall(raw)).map((item) => [String(item.pk), item]));
}

afterAll(async () => {
  await Promise.all(tables.map((TableName) => client.send(new DeleteTableCommand({ TableName }))));
});

describe.each(['transaction', 'conditional-put'] as const)(
  'version-guarded writes as %s',
  (versionedWrites) => {
    let target: TableTarget;
    let outcomes: string[];
    /** Every stale outcome, with the request it answered. */
    const stale: { request: WriteRequest; outcome: StaleOutcome }[] = [];

    beforeAll(async () => {
      target = await freshTable();
      const writers = workload(target, 4);
      const results = await Promise.all(
        writers.map(async (requests) => {
          const batcher = new WriteBatcher({ client, versionedWrites, baseDelayMs: 5, maxDelayMs: 50 });
          // Batches of 60, one after another per writer; the four writers race each other.
          const statuses: string[] = [];
          for (let start = 0; start < requests.length; start += 60) {
            const { outcomes } = await batcher.writeAll(requests.slice(start, start + 60), {
              deadline: { at: Date.now() + 60_000 },
            });
            statuses.push(...outcomes.map((o) => o.status));
            outcomes.forEach((outcome, i) => {
              if (outcome.status === 'stale') stale.push({ request: requests[start + i]!, outcome });
            });
          }
          return statuses;
        }),
      );
      outcomes = results.flat();
    });

    it('keeps the highest version of every key, whatever the order and however the writers race', async () => {
      const items = await stored(target.tableName);
      expect(items.size).toBe(KEYS);
      for (let k = 0; k < KEYS; k++) {
        const item = items.get(`k${k}`);
        expect(item?._version).toBe(VERSIONS);
        if (k % 3 === 0) expect(item).toMatchObject({ _deleted: true });
        else expect(item).toMatchObject({ version: VERSIONS });
      }
    });

    it('gives every write a successful outcome (written, stale or coalesced), none retryable or rejected', () => {
      expect(outcomes).toHaveLength(KEYS * VERSIONS);
      expect(outcomes.filter((status) => !['written', 'stale', 'coalesced'].includes(status))).toEqual([]);
      expect(outcomes).toContain('stale');
    });

    it('says in every stale outcome which stored version won, and whether it was a tombstone', () => {
      // DynamoDB returns the stored item on a failed condition (ALL_OLD); the outcome keeps its version.
      expect(stale.length).toBeGreaterThan(0);
      for (const { request, outcome } of stale) {
        expect(outcome.incomingVersion).toBe(request.version);
        expect(outcome.storedVersion).toBeGreaterThanOrEqual(request.version!);
        const tombstone =
          outcome.storedVersion === VERSIONS && Number(keyOfRequest(request).slice(1)) % 3 === 0;
        expect(outcome.storedDeleted ?? false).toBe(tombstone);
      }
    });
  },
);
