/**
 * The write path, time-stepped (10 ms by default) with messages as counts: arrivals (Poisson, from
 * the seed) join the queue as buckets; free concurrency slots gather batches until full or their
 * batching window closes; an invocation spends its fixed and per-record time (plus a cold start on
 * a new instance), then writes its unique items at the rate its WriteBatcher concurrency allows,
 * slowed by what DynamoDB's token buckets refuse; past its deadline the unwritten messages go back
 * to the queue after the visibility timeout (or to the DLQ at maxReceiveCount). A message's latency
 * is its batch's completion time minus its bucket's arrival time.
 */

import { mulberry32 } from '../core/random.ts';
import { WriteCapacity } from './dynamodb.ts';
import { LatencyHistogram } from './histogram.ts';
import { checkInput } from './input.ts';
import { ArrivalQueue, type Segment } from './queue.ts';
import { type Counters, type SimulationInput, type SimulationResult, summarize } from './result.ts';
import { SeriesRecorder } from './series.ts';
import { duplicateRatioAt } from './workload.ts';

const CHUNK = 25;
const TRANSACTION = 100;
const RECEIVE_MAX = 10;
const PARALLEL_RECEIVES = 4;

interface Gatherer {
  readonly segments: Segment[];
  count: number;
  firstAt: number;
  /** Messages its receives may still move this step (the receive rate, accumulated across steps). */
  credit: number;
}

interface Invocation {
  readonly segments: Segment[];
  readonly messages: number;
  readonly start: number;
  readonly writeFrom: number;
  readonly deadline: number;
  readonly total: number;
  left: number;
  readonly unitsPerMs: number;
  readonly itemsPerRequest: number;
}

/** Runs one simulation; the same input and seed give the same result. */
export function simulate(input: SimulationInput): SimulationResult {
  const run = checkInput(input);
  const { settings, workload, service } = run;
  const random = mulberry32(run.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const jitter = () =>
    service.jitter > 0 ? Math.exp(service.jitter * gauss() - service.jitter ** 2 / 2) : 1;
  const dt = run.stepMs;
  const queue = new ArrivalQueue();
  const capacity = new WriteCapacity(settings.table, workload, run.capacity);
  const latency = new LatencyHistogram();
  const series = new SeriesRecorder(run.endMs);
  const c: Counters = {
    sent: 0,
    written: 0,
    rejected: 0,
    deadLettered: 0,
    invocations: 0,
    coldStarts: 0,
    billedMs: 0,
    writeRequests: 0,
    throttledRequests: 0,
    unitsWritten: 0,
    firstArrival: Number.NaN,
    lastCompletion: 0,
    peakBacklog: 0,
    peakConcurrency: 0,
  };
  if (run.initialBacklog > 0) {
    queue.push(0, run.initialBacklog);
    c.sent += run.initialBacklog;
    c.firstArrival = 0;
  }
  const es = settings.eventSource;
  const lambdaCap = Math.min(
    es.maximumConcurrency ?? 1000,
    settings.lambda.reservedConcurrency ?? Number.POSITIVE_INFINITY,
    settings.lambda.accountConcurrency,
  );
  const provisioned = es.provisionedPollers;
  const maxCap = provisioned
    ? Math.min(
        provisioned.maximum * 10,
        settings.lambda.reservedConcurrency ?? Infinity,
        settings.lambda.accountConcurrency,
      )
    : lambdaCap;
  const growthPerMs = (provisioned ? 900 : 300) / 60_000;
  let cap =
    service.pollerScaling === 'none' ? maxCap : Math.min(maxCap, provisioned ? provisioned.minimum * 10 : 5);
  let capFloat = cap;
  const gatherers: Gatherer[] = [];
  /** When the pollers still deleting a finished batch's messages are free again, ascending. */
  const deleting: number[] = [];
  let rotation = 0;
  const running: Invocation[] = [];
  let warmIdle = 0;
  const windowMs = es.maxBatchingWindowSeconds * 1000;
  // Without a batching window a batch is what one ReceiveMessage returns (AWS asks for a window
  // of at least 1 s above 10 records; the local poller invokes after its first receive).
  const batchCap = windowMs === 0 ? Math.min(es.batchSize, RECEIVE_MAX) : es.batchSize;
  const timeoutMs = settings.lambda.timeoutSeconds * 1000;
  const marginMs = Math.min(settings.lambda.deadlineMarginMs, timeoutMs / 2);
  const receivePerStep = service.receivePerSecPerPoller * (dt / 1000);
  // An idle poller's unused receive time is not saved up beyond a few parallel receives' worth.
  const creditCap = Math.max(receivePerStep, PARALLEL_RECEIVES * RECEIVE_MAX);

  for (let now = 0; now < run.endMs; now += dt) {
    // Arrivals in [now, now + dt), at the step's middle.
    if (now < run.arrivalEndMs && c.sent < run.maxMessages) {
      const n = Math.min(poisson(run.ratePerMs(now) * dt, random, gauss), run.maxMessages - c.sent);
      series.arrived(now, n);
      if (n > 0) {
        queue.push(now + dt / 2, n);
        c.sent += n;
        if (Number.isNaN(c.firstArrival)) c.firstArrival = now + dt / 2;
      }
    }
    queue.release(now);

    // Gather: every free slot polls; the visible messages are shared among them.
    while (deleting.length > 0 && deleting[0]! <= now) deleting.shift();
    const free = Math.max(0, cap - running.length - deleting.length);
    while (gatherers.length < free) gatherers.push({ segments: [], count: 0, firstAt: 0, credit: 0 });
    const active = Math.min(free, gatherers.length);
    if (active > 0 && queue.visibleCount > 0) {
      const share = Math.max(1, Math.floor(queue.visibleCount / active));
      // Starting with another poller each step shares a trickle evenly, as concurrent long polls do.
      rotation = (rotation + 1) % active;
      for (let k = 0; k < active && queue.visibleCount > 0; k++) {
        const gatherer = gatherers[(k + rotation) % active]!;
        // Without a window one receive is the batch: its time is added to the invocation's start.
        gatherer.credit = windowMs === 0 ? batchCap : Math.min(gatherer.credit + receivePerStep, creditCap);
        const want = Math.floor(Math.min(batchCap - gatherer.count, share, gatherer.credit));
        if (want < 1) continue;
        if (gatherer.count === 0) gatherer.firstAt = now;
        const taken = queue.take(want, gatherer.segments);
        gatherer.count += taken;
        gatherer.credit -= taken;
      }
    }
    for (let g = 0; g < Math.min(active, gatherers.length); g++) {
      const gatherer = gatherers[g]!;
      if (gatherer.count === 0) continue;
      if (gatherer.count < batchCap && now + dt - gatherer.firstAt < windowMs) continue;
      gatherers.splice(g, 1);
      g--;
      const cold = warmIdle === 0;
      if (cold) c.coldStarts++;
      else warmIdle--;
      const receiveMs = windowMs === 0 ? (gatherer.count / service.receivePerSecPerPoller) * 1000 : 0;
      running.push(startInvocation(gatherer, now + dt + receiveMs, cold));
    }
    if (service.pollerScaling === 'lambda' && queue.visibleCount > 0 && running.length >= cap) {
      capFloat = Math.min(maxCap, capFloat + growthPerMs * dt);
      cap = Math.floor(capFloat);
    }

    // Write: every invocation past its CPU phase offers its units; DynamoDB admits a share.
    let writers = 0;
    for (const inv of running) if (inv.writeFrom <= now && inv.left > 0) writers++;
    const backend = Math.min(1, service.backendParallelism / Math.max(1, writers));
    let offeredAll = 0;
    for (const inv of running)
      if (inv.writeFrom <= now && inv.left > 0)
        offeredAll += Math.min(inv.left, inv.unitsPerMs * dt * backend);
    const admission = capacity.offer(offeredAll, now, dt);
    const refused = 1 - admission.admitted;
    const end = now + dt;
    for (let i = 0; i < running.length; i++) {
      const inv = running[i]!;
      if (inv.writeFrom <= now && inv.left > 0) {
        const offered = Math.min(inv.left, inv.unitsPerMs * dt * backend);
        const requests = offered / (workload.unitsPerWrite * inv.itemsPerRequest);
        c.writeRequests += requests;
        if (refused > 0) c.throttledRequests += requests * (1 - (1 - refused) ** inv.itemsPerRequest);
        inv.left -= offered * admission.admitted;
        c.unitsWritten += offered * admission.admitted;
      }
      const done = inv.left <= 1e-9 && inv.writeFrom <= end;
      if (!done && end < inv.deadline) continue;
      running.splice(i, 1);
      i--;
      finish(inv, done ? Math.max(end, inv.writeFrom) : inv.deadline);
    }
    const backlog =
      queue.size + running.reduce((s, r) => s + r.messages, 0) + gatherers.reduce((s, g) => s + g.count, 0);
    c.peakBacklog = Math.max(c.peakBacklog, backlog);
    c.peakConcurrency = Math.max(c.peakConcurrency, running.length);
    series.sample(now, { backlog, concurrency: running.length, tableLimit: capacity.tableLimit(now) });
    if (now >= run.arrivalEndMs && backlog === 0 && c.sent > 0) break;
  }
  const inFlight = running.reduce((s, r) => s + r.messages, 0) + gatherers.reduce((s, g) => s + g.count, 0);
  return summarize(run, c, { queued: queue.size, inFlight, latency, series: series.points() });

  function startInvocation(gatherer: Gatherer, at: number, cold: boolean): Invocation {
    const n = gatherer.count;
    const valid = n * (1 - workload.invalidShare);
    const unique = valid * (1 - duplicateRatioAt(workload, n));
    const guarded = unique * workload.guardedShare;
    const plain = unique - guarded;
    const requests = Math.max(1, Math.ceil(plain / CHUNK));
    const itemsPerRequest = Math.max(1, plain / requests);
    const factor = jitter();
    const waveMs = service.requestBaseMs + service.requestPerItemMs * itemsPerRequest;
    const plainMs =
      plain > 0
        ? Math.ceil(requests / settings.lambda.writeConcurrency) * waveMs + plain * service.backendPerItemMs
        : 0;
    const transactions = Math.ceil(guarded / TRANSACTION);
    const guardedMs =
      transactions > 0
        ? transactions * service.transactionBaseMs + guarded * service.transactionPerItemMs
        : 0;
    // Plain and guarded writes go side by side; transactions one after another.
    const writeMs = Math.max(plainMs, guardedMs) * factor;
    const cpuMs =
      (service.invocationOverheadMs + service.perRecordMs * n) * factor + (cold ? service.coldStartMs : 0);
    const total = unique * workload.unitsPerWrite;
    c.invocations++;
    return {
      segments: gatherer.segments,
      messages: n,
      start: at,
      writeFrom: at + cpuMs,
      deadline: at + (cold ? service.coldStartMs : 0) + timeoutMs - marginMs,
      total,
      left: unique > 0 ? total : 0,
      unitsPerMs: total / Math.max(writeMs, 1e-3),
      itemsPerRequest,
    };
  }

  function finish(inv: Invocation, at: number): void {
    warmIdle++;
    // The poller deletes the batch's messages before it polls again.
    if (service.deleteMs > 0) insertSorted(deleting, at + service.deleteMs);
    c.billedMs += Math.ceil(at - inv.start);
    c.lastCompletion = Math.max(c.lastCompletion, at);
    const failedShare = inv.total > 0 ? Math.max(0, inv.left) / inv.total : 0;
    const failed = Math.round(inv.messages * (1 - workload.invalidShare) * failedShare);
    let toFail = failed;
    for (let s = inv.segments.length - 1; s >= 0 && toFail > 0; s--) {
      const seg = inv.segments[s]!;
      const part = Math.min(seg.count, toFail);
      toFail -= part;
      seg.count -= part;
      if (seg.receives + 1 >= settings.queue.maxReceiveCount) c.deadLettered += part;
      else
        queue.hide(at + settings.queue.visibilityTimeoutSeconds * 1000, {
          at: seg.at,
          count: part,
          receives: seg.receives + 1,
        });
    }
    const handled = inv.messages - failed;
    const rejected = handled * workload.invalidShare;
    c.rejected += rejected;
    c.written += handled - rejected;
    for (const seg of inv.segments) {
      latency.add(at - seg.at, seg.count);
      series.latency(at, at - seg.at, seg.count);
    }
    series.completed(at, handled);
  }
}

function insertSorted(values: number[], value: number): void {
  let i = values.length;
  while (i > 0 && values[i - 1]! > value) i--;
  values.splice(i, 0, value);
}

/** A Poisson count with mean `mean`: exact below 30, normal above (deterministic from `random`). */
function poisson(mean: number, random: () => number, gauss: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss()));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}
