import middy from '@middy/core';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  flushTraces,
  recordBatchOutcome,
  type Tracing,
  traceSqsBatch,
  tracingOff,
} from '../../../../shared/tracing/index.ts';
import { sqsRecord } from '../../../support/factories/sqs.ts';
import { type MemoryTracing, memoryTracing, traceparentOf } from '../../../support/fakes/tracing.ts';

function tracedRecord(traceparent: string | undefined, awsTraceHeader?: string): SQSRecord {
  const record = sqsRecord('{"op":"put"}');
  return {
    ...record,
    attributes: { ...record.attributes, ...(awsTraceHeader ? { AWSTraceHeader: awsTraceHeader } : {}) },
    messageAttributes: traceparent
      ? {
          traceparent: {
            dataType: 'String',
            stringValue: traceparent,
            stringListValues: [],
            binaryListValues: [],
          },
        }
      : {},
  };
}

const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 };

let memory: MemoryTracing;
beforeEach(async () => {
  memory = await memoryTracing('batch-test');
});
afterEach(async () => {
  await memory.close();
});

describe('traceSqsBatch', () => {
  it('returns the handler itself when tracing is off', () => {
    // Prepare
    const handler = async () => ({ batchItemFailures: [] });
    // Act
    const wrapped = traceSqsBatch(tracingOff, handler);
    // Assess
    expect(wrapped).toBe(handler);
  });

  it('opens one root CONSUMER span per batch that links to every record carrying a context, and never to a payload', async () => {
    // Prepare
    const xray = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const records = [
      tracedRecord(traceparentOf('a')),
      tracedRecord(undefined),
      tracedRecord('malformed'),
      tracedRecord(undefined, xray),
    ];
    let activeInside: string | undefined;
    const handler = traceSqsBatch(memory.tracing, async (_event: SQSEvent) => {
      activeInside = trace.getActiveSpan()?.spanContext().spanId;
      recordBatchOutcome({ succeeded: 3, deadLettered: 1 });
      return { batchItemFailures: [] } as SQSBatchResponse;
    });
    // Act
    await handler({ Records: records }, context);
    const [span, ...others] = await memory.spans();
    // Assess
    expect(others).toEqual([]);
    expect(span).toMatchObject({
      name: 'process ingest',
      kind: SpanKind.CONSUMER,
      parentSpanContext: undefined,
      status: { code: SpanStatusCode.UNSET },
      attributes: {
        'messaging.system': 'aws_sqs',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'ingest',
        'messaging.batch.message_count': 4,
        'faas.invocation_id': 'req-1',
        'pipeline.records.linked': 2,
        'pipeline.records.failed': 0,
        'pipeline.records.succeeded': 3,
        'pipeline.records.dead_lettered': 1,
      },
    });
    expect(span!.links.map((l) => [l.context.traceId, l.attributes?.['messaging.message.id']])).toEqual([
      ['a'.repeat(32), records[0]!.messageId],
      ['5759e988bd862e3fe1be46a994272793', records[3]!.messageId],
    ]);
    expect(JSON.stringify(span!.attributes)).not.toContain('"op"');
    expect(activeInside).toBe(span!.spanContext().spanId);
  });

  it('marks the span ERROR when records are left for redelivery, or when the handler throws', async () => {
    // Prepare
    const records = [tracedRecord(undefined), tracedRecord(undefined)];
    const partial = traceSqsBatch(memory.tracing, async (_event: SQSEvent) => ({
      batchItemFailures: [{ itemIdentifier: records[1]!.messageId }],
    }));
    const throwing = traceSqsBatch(memory.tracing, async (_event: SQSEvent): Promise<SQSBatchResponse> => {
      throw new Error('table gone');
    });
    // Act
    await partial({ Records: records }, context);
    await expect(throwing({ Records: records }, context)).rejects.toThrow('table gone');
    const [first, second] = await memory.spans();
    // Assess
    expect(first).toMatchObject({
      status: { code: SpanStatusCode.ERROR, message: '1 of 2 records left for redelivery' },
      attributes: { 'pipeline.records.failed': 1 },
    });
    expect(second).toMatchObject({ status: { code: SpanStatusCode.ERROR, message: 'Error: table gone' } });
    expect(second!.events.map((e) => e.name)).toEqual(['exception']);
  });
});

describe('flushTraces', () => {
  it('exports the batch span before the middy handler returns, and after it throws', async () => {
    // Prepare
    const inner = traceSqsBatch(memory.tracing, async (event: SQSEvent) => {
      if (event.Records.length === 0) throw new Error('empty');
      return { batchItemFailures: [] } as SQSBatchResponse;
    });
    const handler = middy(inner).use(flushTraces({ tracing: memory.tracing }));
    // Act
    await handler({ Records: [tracedRecord(traceparentOf('b'))] }, context as never);
    const afterSuccess = memory.exporter.getFinishedSpans().length;
    await expect(handler({ Records: [] }, context as never)).rejects.toThrow('empty');
    const afterError = memory.exporter.getFinishedSpans().length;
    // Assess: no flush of our own in between; the middleware did it.
    expect([afterSuccess, afterError]).toEqual([1, 2]);
  });

  it('skips the flush when the invocation has no time left for it', async () => {
    // Prepare
    let flushes = 0;
    const tracing: Tracing = { ...memory.tracing, enabled: true, flush: async () => void flushes++ };
    const handler = middy(async () => 'done').use(flushTraces({ tracing, marginMs: 200 }));
    // Act
    await handler({}, { getRemainingTimeInMillis: () => 150 } as never);
    await handler({}, { getRemainingTimeInMillis: () => 5_000 } as never);
    // Assess
    expect(flushes).toBe(1);
  });
});
