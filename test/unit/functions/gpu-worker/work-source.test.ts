import type { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsWorkSource } from '../../../../functions/gpu-worker/work-source.ts';
import { traceparentOf } from '../../../support/fakes/tracing.ts';

/** An SQS client answering every ReceiveMessage with one message carrying trace attributes. */
function receivingClient() {
  const requests: ReceiveMessageCommand['input'][] = [];
  const client = {
    send: async (command: ReceiveMessageCommand) => {
      requests.push(command.input);
      return {
        Messages: [
          {
            MessageId: 'm1',
            ReceiptHandle: 'r1',
            Body: '{}',
            Attributes: {
              ApproximateReceiveCount: '2',
              AWSTraceHeader: 'Root=1-00000001-000000000000000000000001',
            },
            MessageAttributes: {
              traceparent: { DataType: 'String', StringValue: traceparentOf('d') },
              'job-traces': { DataType: 'String', StringValue: '[null]' },
            },
          },
        ],
      };
    },
  } as unknown as SQSClient;
  return { client, requests };
}

describe('SqsWorkSource', () => {
  it('asks for the trace attributes and hands them over only with traceContext', async () => {
    // Prepare
    const traced = receivingClient();
    const plain = receivingClient();
    const signal = new AbortController().signal;
    // Act
    const [withTrace] = await new SqsWorkSource(traced.client, 'q', { traceContext: true }).receive(
      10,
      0,
      signal,
    );
    const [without] = await new SqsWorkSource(plain.client, 'q').receive(10, 0, signal);
    // Assess
    expect(traced.requests[0]).toMatchObject({
      MessageAttributeNames: ['traceparent', 'tracestate', 'job-traces'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'AWSTraceHeader'],
    });
    expect(withTrace?.trace).toEqual({
      traceparent: traceparentOf('d'),
      tracestate: undefined,
      awsTraceHeader: 'Root=1-00000001-000000000000000000000001',
      jobTraces: '[null]',
    });
    expect(plain.requests[0]?.MessageAttributeNames).toBeUndefined();
    expect(without).toEqual({ messageId: 'm1', receiptHandle: 'r1', body: '{}', receiveCount: 2 });
  });
});
