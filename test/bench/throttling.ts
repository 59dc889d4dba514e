import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startCapacityProxy, type TableCapacityStats } from '../../shared/local/aws/capacity-proxy.ts';
import { createTable, deleteTable } from '../../shared/local/resources/write-path.ts';
import { type TableTarget, WriteBatcher, type WriteRequest } from '../../shared/write-batcher/index.ts';
import { type BenchContext, table } from './context.ts';

/** The table's provisioned write rate, split evenly over its partitions. */
const ALLOWED_WCU_PER_SECOND = 1_500;
const PARTITIONS = 4;
/**
 * Network and service time the proxy adds to every answer. DynamoDB Local on loopback answers in a
 * few ms, where no concurrency limit would matter; at 150 ms a round trip carries about 11 requests
 * at the allowed rate — more than 8, fewer than 32.
 */
const LATENCY_MS = 150;
const BURST_SECONDS = 1;

const STRATEGIES = [
  { name: 'adaptive', maxConcurrency: 32, adaptiveConcurrency: true },
  { name: 'fixed8', maxConcurrency: 8, adaptiveConcurrency: false },
  { name: 'fixed32', maxConcurrency: 32, adaptiveConcurrency: false },
] as const;

/** What one strategy achieved over one phase. */
interface PhaseResult {
  readonly seconds: number;
  readonly itemsPerSec: number;
  /** Write units the proxy admitted, over the most it could have: the units in its buckets at the start plus the allowed rate × seconds. */
  readonly ofAllowedRate: number;
  /** Requests answered with a throttling error or with UnprocessedItems, over all write requests. */
  readonly throttledFraction: number;
  readonly writeRequests: number;
  readonly throttledRequests: number;
  readonly throttledWrites: number;
}

interface StrategyResult {
  readonly maxConcurrency: number;
  readonly adaptiveConcurrency: boolean;
  /** After the warm-up: the batcher has met the table's capacity (a batcher lives across invocations). */
  readonly steady: PhaseResult;
  /** Warm-up and steady phase together, from empty buckets and a fresh batcher. */
  readonly whole: PhaseResult;
}

/**
 * Throttling: the capacity proxy in front of DynamoDB Local enforces a table's write rate
 * (1,500 WCU/s over 4 partitions, uniform keys, 1 unit per item); each strategy writes the same
 * backlog through a fresh proxy (empty buckets) into a fresh table with one WriteBatcher: adaptive
 * concurrency up to 32, fixed 8, fixed 32. A warm-up backlog goes first through the same batcher
 * (the adaptive one's slow start overshoots once, when the burst its ramp saved runs out), then the
 * measured one. Reported per phase: the admitted rate over the allowed one, and the throttled share
 * of requests; the targets apply to the steady phase.
 */
export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const items = ctx.quick ? 24_000 : 60_000;
  const admin = new DynamoDBClient({});
  await warmUpDynamoDbLocal(admin);
  const strategies: Record<string, StrategyResult> = {};
  for (const strategy of STRATEGIES) {
    const target: TableTarget = {
      tableName: `bench-throttling-${strategy.name}-${randomUUID().slice(0, 8)}`,
      partitionKey: 'pk',
      sortKey: 'sk',
    };
    await createTable(admin, target);
    const proxy = await startCapacityProxy({
      target: ctx.endpoints.dynamodb,
      tables: {
        [target.tableName]: {
          writeUnitsPerSecond: ALLOWED_WCU_PER_SECOND,
          partitions: PARTITIONS,
          partitionKey: 'pk',
        },
      },
      latencyMs: LATENCY_MS,
      burstSeconds: BURST_SECONDS,
    });
    try {
      const batcher = new WriteBatcher({
        client: new DynamoDBClient({ endpoint: proxy.url, maxAttempts: 1 }),
        maxConcurrency: strategy.maxConcurrency,
        adaptiveConcurrency: strategy.adaptiveConcurrency,
      });
      const deadline = { at: Date.now() + 600_000 };
      const started = performance.now();
      const warmUp = await batcher.writeAll(backlog(target, 'w', WARM_UP_ITEMS), { deadline });
      const before = proxy.stats()[target.tableName]!;
      const measuredFrom = performance.now();
      const measured = await batcher.writeAll(backlog(target, 'm', items), { deadline });
      const ended = performance.now();
      const after = proxy.stats()[target.tableName]!;
      const none = {
        ...before,
        admittedWriteUnits: 0,
        writeRequests: 0,
        throttledRequests: 0,
        throttledWrites: 0,
      };
      strategies[strategy.name] = {
        maxConcurrency: strategy.maxConcurrency,
        adaptiveConcurrency: strategy.adaptiveConcurrency,
        steady: phase(
          before,
          after,
          before.availableWriteUnits,
          (ended - measuredFrom) / 1000,
          measured.stats.written,
        ),
        whole: phase(none, after, 0, (ended - started) / 1000, warmUp.stats.written + measured.stats.written),
      };
      const { steady } = strategies[strategy.name]!;
      ctx.log(
        `  ${strategy.name}: ${(steady.ofAllowedRate * 100).toFixed(1)} % of the allowed rate, ` +
          `${(steady.throttledFraction * 100).toFixed(1)} % of requests throttled`,
      );
    } finally {
      await proxy.close();
      await deleteTable(admin, target.tableName);
    }
  }
  const misses = Object.fromEntries(Object.entries(strategies).map(([name, s]) => [name, missed(s.steady)]));
  ctx.log(
    table(
      Object.entries(strategies).flatMap(([name, s]) =>
        (['steady', 'whole'] as const).map((which) => ({
          strategy: name,
          phase: which,
          'of allowed rate': s[which].ofAllowedRate,
          'throttled requests': s[which].throttledFraction,
          requests: s[which].writeRequests,
          'items/s': s[which].itemsPerSec,
          misses: missed(s[which]).join(', ') || '—',
        })),
      ),
    ),
  );
  const { adaptive, fixed8, fixed32 } = strategies as Record<
    (typeof STRATEGIES)[number]['name'],
    StrategyResult
  >;
  return {
    items,
    warmUpItems: WARM_UP_ITEMS,
    allowedWriteUnitsPerSecond: ALLOWED_WCU_PER_SECOND,
    partitions: PARTITIONS,
    latencyMs: LATENCY_MS,
    burstSeconds: BURST_SECONDS,
    strategies,
    ratios: {
      adaptiveVsFixed8ItemsPerSec: adaptive.steady.itemsPerSec / fixed8.steady.itemsPerSec,
      adaptiveVsFixed32ItemsPerSec: adaptive.steady.itemsPerSec / fixed32.steady.itemsPerSec,
      adaptiveVsFixed32ThrottledFraction:
        adaptive.steady.throttledFraction / fixed32.steady.throttledFraction,
    },
    misses,
    targets: {
      ofAllowedRate: `≥ ${TARGET_RATE} (steady)`,
      throttledFraction: `≤ ${TARGET_THROTTLED} (steady)`,
      adaptive: 'meets both',
      fixed8: 'misses one',
      fixed32: 'misses one',
    },
  };
}

/**
 * Before the measured backlog: enough for the adaptive batcher's slow start to end in its first
 * congestion (about 4 s in, when the burst its ramp left unused runs out).
 */
const WARM_UP_ITEMS = 10_000;

/** A JVM that has not run BatchWriteItem yet answers slowly for seconds: the first strategy would pay for it. */
async function warmUpDynamoDbLocal(admin: DynamoDBClient): Promise<void> {
  const target: TableTarget = {
    tableName: `bench-throttling-jit-${randomUUID().slice(0, 8)}`,
    partitionKey: 'pk',
    sortKey: 'sk',
  };
  await createTable(admin, target);
  const batcher = new WriteBatcher({ client: new DynamoDBClient({ maxAttempts: 1 }), maxConcurrency: 8 });
  await batcher.writeAll(backlog(target, 'j', 10_000), { deadline: { at: Date.now() + 120_000 } });
  await deleteTable(admin, target.tableName);
}

/** One phase, from the proxy's counters at its start and end. */
function phase(
  from: TableCapacityStats,
  to: TableCapacityStats,
  heldAtStart: number,
  seconds: number,
  written: number,
): PhaseResult {
  const writeRequests = to.writeRequests - from.writeRequests;
  const throttledRequests = to.throttledRequests - from.throttledRequests;
  return {
    seconds,
    itemsPerSec: written / seconds,
    ofAllowedRate:
      (to.admittedWriteUnits - from.admittedWriteUnits) / (heldAtStart + ALLOWED_WCU_PER_SECOND * seconds),
    throttledFraction: throttledRequests / writeRequests,
    writeRequests,
    throttledRequests,
    throttledWrites: to.throttledWrites - from.throttledWrites,
  };
}

const TARGET_RATE = 0.9;
const TARGET_THROTTLED = 0.05;

/** The targets a strategy misses. */
function missed(result: PhaseResult): string[] {
  return [
    ...(result.ofAllowedRate < TARGET_RATE ? ['rate'] : []),
    ...(result.throttledFraction > TARGET_THROTTLED ? ['throttled'] : []),
  ];
}

/** `count` puts of about 200 bytes (1 write unit each) with keys spread evenly over the partitions. */
function backlog(target: TableTarget, prefix: string, count: number): WriteRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    op: 'put',
    target,
    item: { pk: `${prefix}${i}`, sk: '1', seq: i, data: 'x'.repeat(180) },
  }));
}
