/**
 * The batch writer's peak heap for one event of 10,000 records of 1 KB, in a process that holds what
 * a Lambda instance holds: the handler's modules, its clients and the event — not the benchmark's
 * peers, tables and results. Run by the write-path suite as
 * `node --expose-gc --import tsx test/bench/heap-probe.ts <table> <dlqUrl>` with the emulators'
 * endpoints in the environment; prints `{"peakHeapMiB": n}`.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { createBatchWriterHandler } from '../../functions/batch-writer/wiring.ts';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import { buildBatches, lambdaContext } from './records.ts';

const [tableName, dlqUrl] = process.argv.slice(2);
if (!tableName || !dlqUrl) throw new Error('usage: heap-probe.ts <table> <dlqUrl>');
const handler = createBatchWriterHandler(
  {
    routes: {
      items: { tableName, partitionKey: 'pk', sortKey: 'sk', keyType: 'S', ops: ['put', 'delete'] },
    },
    dlqUrl,
    maxConcurrency: writePathSettings.function.maxConcurrency,
    deadlineMarginMs: writePathSettings.function.deadlineMarginMs,
  },
  {
    logger: new Logger({ serviceName: 'batch-writer' }),
    metrics: new Metrics({ serviceName: 'batch-writer' }),
  },
);
const event = { Records: buildBatches(10_000, (i) => `h${i}`, 1024).flat() } as SQSEvent;
globalThis.gc?.();
let peak = process.memoryUsage().heapUsed;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().heapUsed);
}, 2);
await handler(event, lambdaContext());
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().heapUsed);
process.stdout.write(`${JSON.stringify({ peakHeapMiB: peak / 2 ** 20 })}\n`);
