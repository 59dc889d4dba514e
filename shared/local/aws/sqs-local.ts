import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { createSqsServer } from 'local-aws-sqs';
import { EmulatorStartError } from '../errors.ts';

/** A running local-aws-sqs server. */
export interface SqsLocal {
  /** `http://127.0.0.1:<port>`; queue URLs carry the same host and port. */
  readonly endpoint: string;
  /** Closes the server, cutting open long polls. Safe to call twice. */
  stop(): Promise<void>;
}

/** Where local-aws-sqs runs: in this process (fast start, the default) or in a child Node.js process. */
export type SqsPlacement = 'in-process' | 'child-process';

const serverOptions = (region: string, port = 0) => ({
  port,
  hostname: '127.0.0.1',
  region,
  // AWS's 60 s wait before a deleted queue's name can be reused protects nothing locally.
  emulateQueueCreationLifecycle: false,
});

/**
 * Starts local-aws-sqs on an ephemeral port of 127.0.0.1. In a child process it gets a core of its
 * own, as a remote service would: benchmarks of CPU-bound clients use that.
 */
export async function startSqsLocal(
  region: string,
  placement: SqsPlacement = 'in-process',
): Promise<SqsLocal> {
  return placement === 'child-process' ? startInChild(region) : startInProcess(region);
}

async function startInProcess(region: string): Promise<SqsLocal> {
  const server = await createSqsServer(serverOptions(region));
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

export interface SqsServerScriptOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Exit when stdin ends (the parent's end closed): a child that dies with its parent. @default false */
  readonly exitWithStdin?: boolean;
}

/**
 * The ES module that runs local-aws-sqs on 127.0.0.1 in a Node.js process of its own
 * (`node --input-type=module -e <script>`); it prints `{"port":N}` once listening. A daemon runs
 * it with a fixed port so that queue URLs stay the same across restarts.
 */
export function sqsServerScript(region: string, options: SqsServerScriptOptions = {}): string {
  const moduleUrl = import.meta.resolve('local-aws-sqs');
  const exit = options.exitWithStdin ? `process.stdin.on('end', () => process.exit(0)).resume();` : '';
  return `
    const { createSqsServer } = await import(${JSON.stringify(moduleUrl)});
    const server = await createSqsServer(${JSON.stringify(serverOptions(region, options.port))});
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n');
    ${exit}`;
}

async function startInChild(region: string): Promise<SqsLocal> {
  const script = sqsServerScript(region, { exitWithStdin: true });
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // The child exits when this process's end of its stdin closes, even if this process dies.
  const port = await firstLine(child);
  let exited: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      exited ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      });
      return exited;
    },
  };
}

function firstLine(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) =>
      reject(
        new EmulatorStartError('local-aws-sqs', `its process exited with code ${code} before listening`),
      ),
    );
  });
}
