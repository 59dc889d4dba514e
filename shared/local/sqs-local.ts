import type { AddressInfo } from 'node:net';
import { createSqsServer } from 'local-aws-sqs';

/** A running local-aws-sqs server (in this process). */
export interface SqsLocal {
  /** `http://127.0.0.1:<port>`; queue URLs carry the same host and port. */
  readonly endpoint: string;
  /** Closes the server, cutting open long polls. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts local-aws-sqs on an ephemeral port of 127.0.0.1. `emulateQueueCreationLifecycle` is off:
 * AWS's 60 s wait before a deleted queue's name can be reused protects nothing locally, and tests use
 * unique names anyway.
 */
export async function startSqsLocal(region: string): Promise<SqsLocal> {
  const server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    region,
    emulateQueueCreationLifecycle: false,
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long polls (up to 20 s) would otherwise keep close() waiting.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
