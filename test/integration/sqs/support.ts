import { randomUUID } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type BatchResultErrorEntry,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SendMessageBatchRequest,
  type SendMessageBatchResult,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { inject } from 'vitest';

/** A client of the integration stack's SQS, with SDK retries off so that only the sender retries. */
export function sqsClient(options: { endpoint?: string } = {}): SQSClient {
  return new SQSClient({ maxAttempts: 1, ...options });
}

/** Creates a uniquely named queue and returns its URL. */
export async function createQueue(
  client: SQSClient,
  prefix: string,
  options: { fifo?: boolean; contentBasedDeduplication?: boolean } = {},
): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}${options.fifo ? '.fifo' : ''}`;
  const attributes: Record<string, string> = {};
  if (options.fifo) attributes.FifoQueue = 'true';
  if (options.contentBasedDeduplication) attributes.ContentBasedDeduplication = 'true';
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return QueueUrl!;
}

/**
 * Receives (and deletes) every message until the queue is empty, in the order SQS hands them out.
 * An empty short poll does not prove it (SQS samples some servers; local-aws-sqs answers empty when
 * its 40 ms window closes before its first scan on a loaded machine): only an empty long poll does.
 */
export async function receiveAll(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  let confirming = false;
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: confirming ? 1 : 0,
        VisibilityTimeout: 300,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) {
      if (confirming) return all;
      confirming = true;
      continue;
    }
    confirming = false;
    all.push(...Messages);
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

/** Messages in the queue (local-aws-sqs counts in-flight ones too). */
export async function messageCount(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages);
}

/** What the fault proxy does with its n-th request (1-based). */
export type Fault =
  | { readonly respond: number; readonly error: string }
  | { readonly reset: true }
  | { readonly delayMs: number };

/**
 * A real HTTP proxy in front of the stack's SQS that answers some requests itself (a 5xx, a
 * throttling error), resets the connection, or forwards after a delay (a slow SQS).
 */
export async function startFaultProxy(plan: (n: number) => Fault | undefined) {
  const target = inject('localAws').sqs;
  let requests = 0;
  const server = createServer((req, res) => {
    const fault = plan(++requests);
    if (fault && 'reset' in fault) {
      req.socket.destroy();
      return;
    }
    if (fault && 'respond' in fault) {
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.respond, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: `com.amazonaws.sqs#${fault.error}`,
            message: 'injected by the test proxy',
          }),
        );
      });
      return;
    }
    setTimeout(
      () => {
        const upstream = request(
          new URL(req.url ?? '/', target),
          { method: req.method, headers: req.headers },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        upstream.on('error', (error) => res.destroy(error));
        req.pipe(upstream);
      },
      fault && 'delayMs' in fault ? fault.delayMs : 0,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * SDK middleware that makes SQS "fail" chosen entries of a SendMessageBatch: they are taken out of
 * the request (so SQS never stores them) and come back in `Failed`, as SQS reports them.
 */
export function injectEntryFailures(
  client: SQSClient,
  decide: (call: number, body: string) => Omit<BatchResultErrorEntry, 'Id'> | undefined,
): void {
  let call = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchRequest;
      call++;
      const failed: BatchResultErrorEntry[] = [];
      const kept = (input.Entries ?? []).filter((entry) => {
        const failure = decide(call, entry.MessageBody ?? '');
        if (failure) failed.push({ Id: entry.Id, ...failure });
        return !failure;
      });
      if (kept.length === 0) {
        return { output: { Successful: [], Failed: failed, $metadata: {} }, response: {} } as never;
      }
      const result = await next({ ...args, input: { ...input, Entries: kept } });
      const output = result.output as SendMessageBatchResult;
      output.Failed = [...(output.Failed ?? []), ...failed];
      return result;
    },
    { step: 'initialize', name: 'injectEntryFailures', priority: 'high' },
  );
}
