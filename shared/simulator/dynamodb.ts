/**
 * DynamoDB's write capacity as token buckets: one per hot partition key (1,000 WCU/s each, with up
 * to 300 s of unused capacity kept as burst, starting empty), and one for the table: on demand, the
 * larger of its warm throughput and twice the peak it served `onDemandScaleUpSeconds` ago (DynamoDB
 * serves up to double its previous peak at once; beyond that it throttles while it adds partitions);
 * provisioned, its write capacity units. Adaptive capacity is taken to isolate each hot key on a
 * partition of its own, so a key is limited by its own 1,000 WCU/s, not by its neighbours.
 */

import { awsLimits } from '../pipeline/capacity/limits.ts';
import type { PipelineSettings } from './settings.ts';
import type { SimWorkload } from './workload.ts';

const BURST_SECONDS = 300;

export interface CapacityOptions {
  /** Seconds before a new peak raises the on-demand limit. @default 1800 */
  readonly onDemandScaleUpSeconds?: number;
}

export interface Admission {
  /** Share of the units asked for that DynamoDB took (0..1). */
  readonly admitted: number;
  /** Share refused by a hot key's partition, and by the table limit. */
  readonly keyThrottled: number;
  readonly tableThrottled: number;
}

export class WriteCapacity {
  private readonly keyShares: Float64Array;
  private readonly keyTokens: Float64Array;
  private readonly tailShare: number;
  private tableTokens = 0;
  /** Units admitted per whole second, for the on-demand peak. */
  private readonly perSecond: number[] = [];
  private lagPeak = 0;
  private lagIndex = 0;
  private readonly lagSeconds: number;

  constructor(
    private readonly table: PipelineSettings['table'],
    workload: SimWorkload,
    options: CapacityOptions = {},
  ) {
    this.keyShares = Float64Array.from(workload.hotKeys.map((k) => k.share));
    this.keyTokens = new Float64Array(this.keyShares.length);
    this.tailShare = workload.tailShare;
    this.lagSeconds = options.onDemandScaleUpSeconds ?? 1800;
  }

  /** Units per second the table serves now. */
  tableLimit(nowMs: number): number {
    if (this.table.billingMode === 'PROVISIONED') return this.table.provisionedWriteUnits ?? 0;
    const second = Math.floor(nowMs / 1000) - this.lagSeconds;
    while (this.lagIndex <= second && this.lagIndex < this.perSecond.length) {
      this.lagPeak = Math.max(this.lagPeak, this.perSecond[this.lagIndex]!);
      this.lagIndex++;
    }
    const limit = Math.max(this.table.warmWriteUnitsPerSec, 2 * this.lagPeak);
    return Math.min(limit, this.table.maxWriteRequestUnits ?? Number.POSITIVE_INFINITY);
  }

  /** Offers `units` for a step of `dtMs` at `nowMs`; refills the buckets first. */
  offer(units: number, nowMs: number, dtMs: number): Admission {
    const dt = dtMs / 1000;
    const keyLimit = awsLimits.partitionWriteUnitsPerSec;
    const tableLimit = this.tableLimit(nowMs);
    this.tableTokens = Math.min(this.tableTokens + tableLimit * dt, tableLimit * BURST_SECONDS);
    let afterKeys = units * this.tailShare;
    for (let i = 0; i < this.keyShares.length; i++) {
      const tokens = Math.min(this.keyTokens[i]! + keyLimit * dt, keyLimit * BURST_SECONDS);
      const demand = units * this.keyShares[i]!;
      const took = Math.min(demand, tokens);
      this.keyTokens[i] = tokens - took;
      afterKeys += took;
    }
    const taken = Math.min(afterKeys, this.tableTokens);
    this.tableTokens -= taken;
    const second = Math.floor(nowMs / 1000);
    while (this.perSecond.length <= second) this.perSecond.push(0);
    this.perSecond[second]! += taken;
    if (units <= 0) return { admitted: 1, keyThrottled: 0, tableThrottled: 0 };
    return {
      admitted: taken / units,
      keyThrottled: (units - afterKeys) / units,
      tableThrottled: (afterKeys - taken) / units,
    };
  }
}
