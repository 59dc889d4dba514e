import { type Span, SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../shared/local/poll.ts';
import { PipelineProducer, SqsBatchSender } from '../../../shared/sqs/index.ts';
import { type MemoryTracing, memoryTracing } from '../../support/fakes/tracing.ts';
import {
  type CollectedSpan,
  type OtlpCollector,
  startOtlpCollector,
  withFunctionEnvironment,
} from '../../support/otlp-collector.ts';
import { type InferenceCloud, inferenceCloud, requestBody, waitForTerminal } from '../inference/support.ts';

// Issue 12: "one message's trace id is visible in the worker's span for that job". The synthesized
// WritePath and GpuInference stacks on the local cloud, every traced component configured by the
// standard OTEL variables to export over OTLP/HTTP to a collector this test runs on 127.0.0.1: the
// bundled batch-writer and dispatcher Lambdas (function environment) and the GPU worker processes
// (task environment). The producer runs here, inside spans of its own.
let collector: OtlpCollector;
let producer: MemoryTracing;
let fx: InferenceCloud;

beforeAll(async () => {
  collector = await startOtlpCollector();
  // Lambdas flush before each invocation returns; the worker exports every 100 ms.
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
  fx = await inferenceCloud({
    assembly: (assembly) => withFunctionEnvironment(assembly, otel),
    workerEnvironment: otel,
  });
  producer = await memoryTracing('test-producer');
});

afterAll(async () => {
  await producer?.close();
  await fx?.close();
  await collector?.close();
});

/** Sends inside a new span of the test's producer; returns that span's context. */
async function inProducerSpan(send: () => Promise<unknown>) {
  return producer.tracing.tracer.startActiveSpan(
    'produce',
    { kind: SpanKind.PRODUCER },
    async (span: Span) => {
      try {
        await send();
      } finally {
        span.end();
      }
      return span.spanContext();
    },
  );
}

function spanWhere(what: string, match: (span: CollectedSpan) => boolean): Promise<CollectedSpan> {
  return waitUntil(() => collector.spans().find(match), {
    what: () =>
      `${what} (${collector.spans().length} spans collected: ${[...new Set(collector.spans().map((s) => `${s.service}/${s.name}`))].join(', ')})`,
    timeoutMs: 60_000,
  });
}

const linksTo = (span: CollectedSpan, traceId: string, spanId: string) =>
  span.links.some((l) => l.traceId === traceId && l.spanId === spanId);

describe('tracing across every hop, on the local cloud', () => {
  it("shows an inference request's trace id in the GPU worker's span for its job, through the dispatcher", async () => {
    // Prepare
    const sender = new SqsBatchSender({ queueUrl: fx.requestsQueueUrl, client: fx.sqs, maxDelayMs: 1 });
    // Act
    const produced = await inProducerSpan(() => sender.send({ body: requestBody('traced-1', 7) }));
    await sender.close();
    const records = await waitForTerminal(fx, ['traced-1']);
    const job = await spanWhere(
      'the worker span of job traced-1',
      (s) => s.attributes['pipeline.job.id'] === 'traced-1',
    );
    const dispatch = await spanWhere(
      'the dispatcher batch span linking to the request',
      (s) => s.service === 'inference-dispatcher' && linksTo(s, produced.traceId, produced.spanId),
    );
    const batch = await spanWhere(
      'the inference batch span linking to the job span',
      (s) => s.service === 'gpu-worker' && linksTo(s, job.traceId, job.spanId),
    );
    // Assess: the job span continues the producer's trace, as a child of the span that sent it.
    expect(records.get('traced-1')?.status).toBe('DONE');
    expect(job).toMatchObject({
      service: 'gpu-worker',
      traceId: produced.traceId,
      parentSpanId: produced.spanId,
      name: 'job shelf-classifier@1',
      kind: 5,
      attributes: { 'pipeline.job.outcome': 'DONE', 'pipeline.model': 'shelf-classifier' },
    });
    // The dispatcher's batch span is a trace of its own linked to the request, and the job span
    // links back to it (the gpu-work message carried it).
    expect(dispatch.traceId).not.toBe(produced.traceId);
    expect(dispatch).toMatchObject({
      kind: 5,
      attributes: { 'messaging.system': 'aws_sqs', 'pipeline.records.failed': 0 },
    });
    expect(linksTo(job, dispatch.traceId, dispatch.spanId)).toBe(true);
    expect(batch.name).toBe('infer shelf-classifier@1');
    expect(collector.rejected).toEqual([]);
  });

  it("links the batch writer's span to the message the typed producer sent inside a span", async () => {
    // Prepare
    const ingest = new PipelineProducer({
      queueUrl: fx.cloud.output('WritePath', 'IngestQueueUrl'),
      client: fx.sqs,
      maxDelayMs: 1,
    });
    // Act
    const produced = await inProducerSpan(() => ingest.put({ pk: 'traced', sk: '1', n: 1 }));
    const untraced = await ingest.put({ pk: 'untraced', sk: '1' });
    await ingest.close();
    const batch = await spanWhere(
      'the batch-writer span linking to the message',
      (s) => s.service === 'batch-writer' && linksTo(s, produced.traceId, produced.spanId),
    );
    // Assess
    const link = batch.links.find((l) => l.spanId === produced.spanId)!;
    expect(link.attributes['messaging.message.id']).toEqual(expect.any(String));
    expect(batch).toMatchObject({
      name: expect.stringMatching(/^process /),
      kind: 5,
      attributes: {
        'messaging.system': 'aws_sqs',
        'messaging.operation.type': 'process',
        'pipeline.records.failed': 0,
      },
    });
    expect(batch.parentSpanId).toBeUndefined();
    // A message sent outside any span carries no context, so no batch span links to it.
    const allLinkedIds = collector
      .spans()
      .flatMap((s) => s.links.map((l) => l.attributes['messaging.message.id']));
    expect(allLinkedIds).not.toContain(untraced.messageId);
  });
});
