/** What `recommend` returns: each recommendation with the figure that drove it. */

/** The figure a recommendation follows from. */
export interface Driver {
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
}

type Advice<T> = T & { readonly driver: Driver; readonly reason: string };

export interface Recommendations {
  readonly batch: Advice<{ readonly batchSize: number; readonly maxBatchingWindowSeconds: number }>;
  readonly eventSource: Advice<
    | { readonly mode: 'standard'; readonly maxConcurrency: number }
    | {
        readonly mode: 'provisioned';
        readonly provisionedPollers: { readonly minimum: number; readonly maximum: number };
      }
  >;
  readonly memoryMiB: Advice<{ readonly value: number; readonly measured: boolean }>;
  readonly writeConcurrency: Advice<{ readonly value: number }>;
  readonly coalescing: Advice<{
    readonly pays: boolean;
    readonly duplicateRatio: number;
    readonly savedWritesPerSec: number;
  }>;
  readonly sharding: Advice<{
    readonly needed: boolean;
    /** Route options to publish (merge into the `pipeline` snapshot's routing). */
    readonly routes: Readonly<
      Record<
        string,
        { readonly shards: Readonly<Record<string, { readonly count: number; readonly by: string }>> }
      >
    >;
  }>;
  readonly warmThroughput: Advice<{
    readonly needed: boolean;
    readonly tables: readonly { readonly table: string; readonly writeUnitsPerSecond: number }[];
  }>;
  readonly gpu: Advice<
    | { readonly computed: true; readonly messagesPerTask: number; readonly maxInstances: number }
    | { readonly computed: false }
  >;
}

export interface RecommendOptions {
  /** Peak heap of `analysis.largestBatch` through the batch writer, measured. @default estimated from its bytes */
  readonly batchHeapBytes?: number;
  /** As the WriteBatcher's option. @default 'transaction' */
  readonly versionedWrites?: 'transaction' | 'conditional-put';
  /** GPU inference: jobs/s at the target, and what one task sustains (measure it: `npm run bench -- gpu-worker`). */
  readonly gpu?: { readonly jobsPerSec: number; readonly taskJobsPerSec: number };
}
