/**
 * The queue `pipeline send` writes to, and an SQS client for it: `--queue-url`, or `--queue` looked
 * up in the local stack file.
 */

import { resolve } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../local/aws/client-config.ts';
import { type LocalStack, readStackFile } from '../../local/resources/stack-file.ts';
import { StackConfigError, UsageError } from '../errors.ts';

/** The flags that name the queue. */
export interface QueueFlags {
  readonly queueUrl?: string;
  /** Queue name in the stack file. */
  readonly queue: string;
  readonly stackFile: string;
}

export interface Target {
  readonly queueUrl: string;
  /** Owned by the caller, which destroys it when done. */
  readonly client: SQSClient;
}

/**
 * `--queue-url`, or `--queue` looked up in the stack file (`queueGiven`: typed on the command line,
 * not defaulted). A local queue (the stack's endpoint or a loopback host) gets the local endpoint and
 * placeholder credentials; any other queue uses the standard AWS credential and endpoint settings,
 * with the region taken from the URL when it has one.
 */
export async function resolveTarget(flags: QueueFlags, queueGiven: boolean, cwd: string): Promise<Target> {
  const stackPath = resolve(cwd, flags.stackFile);
  if (flags.queueUrl === undefined || queueGiven) {
    const stack = await readStackFile(stackPath);
    const queue = stack.queues[flags.queue];
    if (!queue) {
      const known = Object.keys(stack.queues).join(', ') || 'none';
      throw new StackConfigError(stackPath, `no queue named "${flags.queue}" (known: ${known})`);
    }
    return { queueUrl: queue.url, client: localClient(stack.endpoints.sqs, stack) };
  }
  let url: URL;
  try {
    url = new URL(flags.queueUrl);
  } catch (cause) {
    throw new UsageError(`--queue-url ${flags.queueUrl} is not a URL`, { cause });
  }
  if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    const stack = await readStackFile(stackPath).catch(() => undefined);
    return { queueUrl: flags.queueUrl, client: localClient(url.origin, stack) };
  }
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
  return {
    queueUrl: flags.queueUrl,
    client: new SQSClient({ maxAttempts: 1, ...(region ? { region } : {}) }),
  };
}

function localClient(endpoint: string, stack: LocalStack | undefined): SQSClient {
  return new SQSClient({ maxAttempts: 1, ...localClientConfig(endpoint, stack?.region ?? 'us-east-1') });
}
