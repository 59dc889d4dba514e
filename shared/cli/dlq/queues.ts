/**
 * Which dead-letter queue `pipeline dlq` works on, where a redrive sends its messages, and the SQS
 * client for both: `--queue <url>`, or `--dlq <name>` looked up in the stack file; the destination
 * is `--to <url>`, the stack file's source queue, or the one queue SQS lists as the DLQ's source.
 */

import { resolve } from 'node:path';
import { ListDeadLetterSourceQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../local/aws/client-config.ts';
import { type LocalStack, readStackFile } from '../../local/resources/stack-file.ts';
import { StackConfigError, UsageError } from '../errors.ts';
import type { DlqQueueFlags } from './flags.ts';
import { request } from './sqs.ts';

export interface DlqTarget {
  readonly dlqUrl: string;
  /** The queue whose DLQ it is, when the stack file says. */
  readonly sourceUrl?: string;
  /** Owned by the caller, which destroys it when done. */
  readonly client: SQSClient;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The DLQ named by `--queue` or `--dlq` (with the stack file), and a client for it: a loopback
 * queue gets the stack's region and placeholder credentials; any other queue the standard AWS
 * credential and endpoint settings, with the region taken from the URL.
 */
export async function resolveDlq(flags: DlqQueueFlags, cwd: string): Promise<DlqTarget> {
  const stackPath = resolve(cwd, flags.stackFile);
  if (flags.queue !== undefined) {
    const url = parseQueueUrl('--queue', flags.queue);
    const stack = LOOPBACK.has(url.hostname)
      ? await readStackFile(stackPath).catch(() => undefined)
      : undefined;
    return { dlqUrl: flags.queue, client: clientFor(url, stack) };
  }
  if (flags.dlq === undefined) {
    throw new UsageError(
      'name the dead-letter queue: --queue <dlq-url>, or --dlq <ingest|config-changes|inference-requests> ' +
        `to look it up in the stack file (${flags.stackFile})`,
    );
  }
  const stack = await readStackFile(stackPath);
  const queue = stack.queues[flags.dlq];
  if (!queue) {
    const known = Object.keys(stack.queues).join(', ') || 'none';
    throw new StackConfigError(stackPath, `no queue named "${flags.dlq}" (known: ${known})`);
  }
  if (!queue.dlqUrl) throw new StackConfigError(stackPath, `queue "${flags.dlq}" has no dlqUrl`);
  return {
    dlqUrl: queue.dlqUrl,
    sourceUrl: queue.url,
    client: new SQSClient({ maxAttempts: 1, ...localClientConfig(stack.endpoints.sqs, stack.region) }),
  };
}

/**
 * Where a redrive sends: `--to`, else the DLQ's source queue from the stack file, else the only
 * queue whose redrive policy names the DLQ (`ListDeadLetterSourceQueues`).
 */
export async function resolveDestination(target: DlqTarget, to: string | undefined): Promise<string> {
  if (to !== undefined) {
    parseQueueUrl('--to', to);
    if (to === target.dlqUrl) throw new UsageError(`--to ${to} is the dead-letter queue itself`);
    return to;
  }
  if (target.sourceUrl !== undefined) return target.sourceUrl;
  const { queueUrls = [] } = await request('ListDeadLetterSourceQueues', target.dlqUrl, () =>
    target.client.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: target.dlqUrl, MaxResults: 10 })),
  );
  if (queueUrls.length === 1) return queueUrls[0]!;
  const found =
    queueUrls.length === 0
      ? 'no queue names it as its dead-letter queue'
      : `${queueUrls.length} queues name it as their dead-letter queue (${queueUrls.join(', ')})`;
  throw new UsageError(`cannot tell where to redrive ${target.dlqUrl}: ${found}; pass --to <queue-url>`);
}

function parseQueueUrl(flag: string, value: string): URL {
  try {
    return new URL(value);
  } catch (cause) {
    throw new UsageError(`${flag} ${value} is not a queue URL`, { cause });
  }
}

function clientFor(url: URL, stack: LocalStack | undefined): SQSClient {
  if (LOOPBACK.has(url.hostname)) {
    return new SQSClient({ maxAttempts: 1, ...localClientConfig(url.origin, stack?.region ?? 'us-east-1') });
  }
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
  return new SQSClient({ maxAttempts: 1, ...(region ? { region } : {}) });
}
