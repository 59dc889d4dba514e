import {
  awsServiceTimes,
  defaultPipelineSettings,
  type PipelineSettings,
  type ServiceTimes,
  simulate,
  workloadFromSample,
} from '../../shared/simulator/index.ts';
import { type BenchContext, table } from './context.ts';
import {
  type HandlerProbe,
  type Invocation,
  type Measured,
  measureRun,
  probeHandler,
  type RunSpec,
  receiveRate,
} from './simulator-runs.ts';

/**
 * The simulator against measured runs on the embedded stack (DynamoDB Local, local-aws-sqs, the
 * project's poller and the real batch-writer handler): one run calibrates the service times (fixed
 * cost per invocation and cost per written item, from a least-squares fit over its invocations, and
 * the spread of their times), a probe measures how fast a poller receives; then every other
 * workload is predicted from its settings and sample alone and compared. Last, the simulator's own
 * speed on one hour of 100,000 messages/s.
 */
const CALIBRATION: RunSpec = {
  name: 'uniform (calibration)',
  messages: 12_000,
  ratePerSec: 1_000,
  keys: 100_000,
  keyDistribution: { kind: 'uniform' },
  batchSize: 1000,
  windowMs: 1000,
  concurrency: 4,
  writeConcurrency: 8,
};

const VALIDATION: readonly RunSpec[] = [
  {
    ...CALIBRATION,
    name: 'zipf 1.2, 500 keys (duplicate-heavy)',
    keys: 500,
    keyDistribution: { kind: 'zipf', s: 1.2 },
  },
  { ...CALIBRATION, name: 'versioned writes (transactions)', keys: 3_000, versions: true },
  {
    ...CALIBRATION,
    name: 'batch 100, window 0.2 s, 2,000/s',
    messages: 16_000,
    ratePerSec: 2_000,
    batchSize: 100,
    windowMs: 200,
    concurrency: 8,
    writeConcurrency: 4,
  },
  {
    ...CALIBRATION,
    name: 'overload: 1 slot, batch 100, 3,000/s',
    messages: 15_000,
    ratePerSec: 3_000,
    batchSize: 100,
    windowMs: 0,
    concurrency: 1,
    writeConcurrency: 2,
  },
];

/** DynamoDB Local has no capacity limit: the table is given one it never reaches. */
const LOCAL_TABLE = { billingMode: 'PAY_PER_REQUEST', warmWriteUnitsPerSec: 1e12 } as const;

export async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const specs = ctx.quick ? VALIDATION.slice(0, 3) : VALIDATION;
  const receive = await receiveRate(CALIBRATION.concurrency);
  const firstProbe = await probeHandler(CALIBRATION.writeConcurrency, 6);
  const calibrationRun = await measureRun(CALIBRATION);
  const calibration = calibrate(firstProbe, calibrationRun, receive);
  ctx.log(`calibrated: ${JSON.stringify(calibration)}`);
  const rows: Record<string, string | number>[] = [];
  const results: Record<string, unknown>[] = [];
  for (const [i, spec] of [CALIBRATION, ...specs].entries()) {
    // The probe again right before each validation run: the same service times at this moment's load.
    const probe = i === 0 ? firstProbe : await probeHandler(spec.writeConcurrency);
    const measured = i === 0 ? calibrationRun : await measureRun(spec);
    const service = i === 0 ? calibration.service : serviceTimes(probeFigures(probe), calibration);
    const predicted = predict(spec, measured, service);
    const error = (p: number, m: number) => Math.round(((p - m) / m) * 1000) / 10;
    const row = {
      workload: spec.name,
      role: i === 0 ? 'calibration' : 'validation',
      sentPerSec: Math.round(measured.sentPerSec),
      measuredThroughput: Math.round(measured.throughputPerSec),
      predictedThroughput: Math.round(predicted.throughputPerSec),
      throughputErrorPct: error(predicted.throughputPerSec, measured.throughputPerSec),
      measuredP99Ms: Math.round(measured.p99Ms),
      predictedP99Ms: Math.round(predicted.latencyMs.p99),
      p99ErrorPct: error(predicted.latencyMs.p99, measured.p99Ms),
      measuredP50Ms: Math.round(measured.p50Ms),
      predictedP50Ms: Math.round(predicted.latencyMs.p50),
    };
    rows.push(row);
    results.push({ ...row, spec, service, invocations: measured.invocations.length });
    ctx.log(table([row]));
  }
  const speed = speedRuns();
  ctx.log(`\n${table(rows)}\n\nsimulator speed, 1 h of 100,000 messages/s: ${table(speed)}`);
  return { calibration, runs: results, speed };
}

interface Calibration {
  readonly service: ServiceTimes;
  /** Invocations whose writes DynamoDB Local serves at full speed at once (from the calibration run). */
  readonly backendParallelism: number;
  readonly jitter: number;
  readonly receivePerSecPerPoller: number;
  readonly deleteMs: number;
}

/**
 * What a probe measures, robust to a loaded machine (medians and ratio estimators, no fit one slow
 * call can swing): the fixed cost per invocation (median of the 10- and 25-record batches), the
 * backend's time per plain item and per transactional item of a lone invocation.
 */
function probeFigures(probe: HandlerProbe) {
  const plain = probe.invocations.filter((i) => !i.guarded);
  const overhead = median(
    plain.filter((i) => i.records <= 25).map((i) => i.durationMs - PER_RECORD_MS * i.records),
  );
  const perItem = ratio(
    plain.filter((i) => i.records >= 100),
    overhead,
  );
  const txPerItem = ratio(
    probe.invocations.filter((i) => i.guarded),
    overhead,
  );
  return { overhead, perItem, txPerItem };
}

/**
 * The calibration: DynamoDB Local is taken as a throughput-bound backend — each item costs the
 * probe's time per item, and invocations writing at once share it. How many it serves at full
 * speed comes from the calibration run: its write time per item over the probe's is the slowdown,
 * the mean number of invocations running during each one over that slowdown the parallelism. The
 * spread is the run's invocations' around the model (median to 90th percentile of the log ratio),
 * the receive rate the probe's.
 */
function calibrate(
  probe: HandlerProbe,
  run: Measured,
  receive: { perPollerPerSec: number; deleteMs: number },
): Calibration {
  const p = probeFigures(probe);
  const invs = run.invocations;
  // The mean number of invocations running (itself included) over each one's duration.
  const overlapping = invs.map((a) => {
    let busy = 0;
    for (const b of invs)
      busy += Math.max(
        0,
        Math.min(a.startMs + a.durationMs, b.startMs + b.durationMs) - Math.max(a.startMs, b.startMs),
      );
    return busy / Math.max(a.durationMs, 1e-6);
  });
  const meanOverlap = overlapping.reduce((s, n) => s + n, 0) / invs.length;
  const slowdown =
    ratio(
      invs.map((i) => ({ ...i, records: i.unique })),
      p.overhead,
    ) / Math.max(p.perItem, 1e-6);
  const backendParallelism = slowdown > 1 ? meanOverlap / slowdown : Number.POSITIVE_INFINITY;
  const model = (i: Invocation, n: number) =>
    p.overhead + i.unique * p.perItem * Math.max(1, n / backendParallelism);
  const logs = invs.map((i, k) => Math.log(i.durationMs / model(i, overlapping[k]!))).sort((a, b) => a - b);
  const q = (x: number) => logs[Math.floor(x * (logs.length - 1))]!;
  const figures = {
    backendParallelism: round(backendParallelism),
    jitter: round(Math.max(0, (q(0.9) - q(0.5)) / 1.2816)),
    receivePerSecPerPoller: Math.round(receive.perPollerPerSec),
    deleteMs: round(receive.deleteMs),
  };
  return { ...figures, service: serviceTimes(p, figures) };
}

/** The service times at a probe's load, with the calibration's parallelism, spread and receive rate. */
function serviceTimes(
  p: ReturnType<typeof probeFigures>,
  calibration: Omit<Calibration, 'service'>,
): ServiceTimes {
  return {
    invocationOverheadMs: round(p.overhead),
    perRecordMs: PER_RECORD_MS,
    requestBaseMs: 0,
    requestPerItemMs: 0,
    backendPerItemMs: round(p.perItem),
    transactionBaseMs: 0,
    transactionPerItemMs: round(p.txPerItem),
    backendParallelism: calibration.backendParallelism,
    coldStartMs: 0,
    receivePerSecPerPoller: calibration.receivePerSecPerPoller,
    deleteMs: calibration.deleteMs,
    jitter: calibration.jitter,
    pollerScaling: 'none',
  };
}

/** Handler CPU per record, the write-path bench's figure. */
const PER_RECORD_MS = awsServiceTimes.perRecordMs;

/** Σ (duration − overhead − CPU) / Σ records: the time per item. */
function ratio(
  invocations: readonly { readonly records: number; readonly durationMs: number }[],
  overhead: number,
): number {
  let num = 0;
  let den = 0;
  for (const i of invocations) {
    num += Math.max(0, i.durationMs - overhead - PER_RECORD_MS * i.records);
    den += i.records;
  }
  return den > 0 ? num / den : 0;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function predict(spec: RunSpec, measured: Measured, service: ServiceTimes) {
  const settings: PipelineSettings = {
    ...defaultPipelineSettings,
    eventSource: {
      batchSize: spec.batchSize,
      maxBatchingWindowSeconds: spec.windowMs / 1000,
      maximumConcurrency: spec.concurrency,
    },
    lambda: { ...defaultPipelineSettings.lambda, writeConcurrency: spec.writeConcurrency },
    table: LOCAL_TABLE,
  };
  const expectedBatch = Math.min(
    spec.batchSize,
    Math.max(1, Math.ceil((measured.sentPerSec * (spec.windowMs / 1000)) / spec.concurrency)),
  );
  return simulate({
    settings,
    workload: workloadFromSample(measured.sample, { batchSize: expectedBatch }),
    service,
    ratePerSec: measured.sentPerSec,
    durationSeconds: measured.sendSeconds,
    maxMessages: spec.messages,
    drainSeconds: 120,
    seed: 1,
    // Local invocations take ~10 ms: the step must be well under that.
    stepMs: 1,
  });
}

/** Wall time of one simulated hour at 100,000 messages/s: the template's defaults, and sized for the rate. */
function speedRuns(): Record<string, string | number>[] {
  const sized: PipelineSettings = {
    ...defaultPipelineSettings,
    eventSource: { ...defaultPipelineSettings.eventSource, maximumConcurrency: 1000 },
    table: { billingMode: 'PAY_PER_REQUEST', warmWriteUnitsPerSec: 120_000 },
  };
  return [
    ['template defaults (max concurrency 10)', defaultPipelineSettings],
    ['sized (max concurrency 1,000, warm 120k WCU/s)', sized],
  ].map(([name, settings]) => {
    const started = performance.now();
    const r = simulate({
      settings: settings as PipelineSettings,
      ratePerSec: 100_000,
      durationSeconds: 3600,
    });
    return {
      settings: name as string,
      wallSeconds: round((performance.now() - started) / 1000),
      throughputPerSec: Math.round(r.throughputPerSec),
      p99Ms: Math.round(r.latencyMs.p99),
      invocations: r.lambda.invocations,
    };
  });
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
