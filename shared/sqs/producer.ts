import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import {
  type DeleteMessage,
  InvalidMessageError,
  type Message,
  type PutMessage,
  validateMessage,
} from '../contract/index.ts';
import { InvalidOptionError, type OptionsSchema, parseOptions } from '../core/options.ts';
import { Router, RoutesSchema } from '../pipeline/routing.ts';
import {
  type PendingSend,
  type SendReceipt,
  SqsBatchSender,
  type SqsBatchSenderOptions,
  SqsBatchSenderOptionsSchema,
} from './batch-sender.ts';
import { failureReason, InvalidTenantError } from './errors.ts';
import { groupIdProblem, isFifoQueueUrl, type SendEntry } from './limits.ts';
import type { SenderStats } from './stats.ts';
import { describeTarget, resolveTenant, type TenantOption } from './tenant.ts';

// Public entry of the producer package (`import { PipelineProducer } from '<pkg>/producer'`).
export type { DeleteMessage, Message, PutMessage } from '../contract/index.ts';
export { ContractError, InvalidMessageError } from '../contract/index.ts';
export { PipelineError } from '../core/errors.ts';
export { InvalidOptionError } from '../core/options.ts';
export {
  type PendingSend,
  type SendReceipt,
  SqsBatchSender,
  type SqsBatchSenderOptions,
} from './batch-sender.ts';
export {
  InvalidGroupIdError,
  InvalidMessageBodyError,
  InvalidTenantError,
  MessageTooLargeError,
  MissingGroupIdError,
  RetriesExhaustedError,
  SenderClosedError,
  SqsRejectedError,
  SqsSendError,
  TooManyMessageAttributesError,
} from './errors.ts';
export {
  entryBytes,
  groupIdProblem,
  replaceDisallowedCharacters,
  type SendEntry,
  sqsLimits,
} from './limits.ts';
export type { SenderStats } from './stats.ts';
export type { TenantOption } from './tenant.ts';

/** SQS settings of one message. */
export interface MessageOptions {
  /**
   * FIFO message group; required on FIFO queues. Messages of one group arrive in order. On a
   * standard queue it is sent as the `MessageGroupId` too (the tenant): prefer `tenant` there.
   */
  readonly groupId?: string;
  /**
   * Standard queues only: this message's tenant (its `MessageGroupId`, for SQS fair queues),
   * overriding the producer's `tenant`. Not with `groupId`, not on a FIFO queue.
   */
  readonly tenant?: string;
  /** FIFO deduplication id; without it the queue must use content-based deduplication. */
  readonly dedupId?: string;
  /** Standard queues only: delivery delay, 0..900 s. */
  readonly delaySeconds?: number;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
}

/** Options of `put` and `delete`. */
export interface WriteOptions extends MessageOptions {
  /** Logical table; the pipeline's default table when omitted. */
  readonly table?: string;
  /** Version guard: the write replaces only a lower stored version (integer ≥ 0). */
  readonly version?: number;
}

export interface PipelineProducerOptions extends SqsBatchSenderOptions {
  /**
   * The pipeline's routes. When given, messages are also checked the way the batch writer routes
   * them (known logical table, op allowed, key attributes present, no reserved attribute names).
   */
  readonly routes?: z.input<typeof RoutesSchema>;
  /**
   * Standard queues only: the tenant of every message, sent as its `MessageGroupId` so that SQS
   * fair queues keep one noisy tenant from delaying the others (no ordering, unlike FIFO). An id,
   * or a function of the message (returning `undefined` for a message without a tenant); a
   * message's own `tenant` option wins. Refused on a FIFO queue, where `MessageGroupId` is the
   * ordering group (`groupId`). @default none (messages carry no tenant)
   *
   * @example
   * const tenantOf = (m: Message) => (m.op === 'put' ? (m.item.tenantId as string | undefined) : undefined);
   * new PipelineProducer({ queueUrl, tenant: tenantOf });
   */
  readonly tenant?: TenantOption;
}

const TENANT_RULE =
  'a tenant id (1 to 128 letters, digits and ASCII punctuation) or a function of the message returning one';

/** `PipelineProducerOptions` checked, with the documented defaults applied. */
const PipelineProducerOptionsSchema = SqsBatchSenderOptionsSchema.extend({
  routes: RoutesSchema.optional(),
  tenant: z
    .custom<TenantOption>(
      (value) =>
        typeof value === 'function' || (typeof value === 'string' && groupIdProblem(value) === undefined),
      { error: TENANT_RULE },
    )
    .optional(),
}) satisfies OptionsSchema<PipelineProducerOptions>;

/**
 * Typed producer of contract-v1 messages for the ingest queue. Every message is validated with the
 * batch writer's own schema before it is sent, so an invalid one rejects here with
 * `InvalidMessageError` (nothing sent) instead of landing in the DLQ.
 *
 * @example
 * const producer = new PipelineProducer({ queueUrl });
 * await producer.put({ pk: 'user#1', sk: 'profile', name: 'Ada' }, { version: 3 });
 * await producer.delete({ pk: 'user#1', sk: 'profile' }, { version: 4 });
 * await producer.close();
 */
export class PipelineProducer implements AsyncDisposable {
  /** The low-level sender underneath, for raw bodies. */
  readonly sender: SqsBatchSender;
  private readonly router: Router | undefined;
  private readonly tenant: TenantOption | undefined;
  private readonly invalid = new Map<string, number>();

  /**
   * @throws InvalidOptionError when an option is out of range, `routes` is not a valid routing map,
   * or `tenant` is not a valid tenant or is given for a FIFO queue.
   */
  constructor(options: PipelineProducerOptions) {
    const { routes, tenant, ...senderOptions } = parseOptions(
      'PipelineProducer',
      PipelineProducerOptionsSchema,
      options,
    );
    if (tenant !== undefined && isFifoQueueUrl(senderOptions.queueUrl)) {
      throw new InvalidOptionError(
        'PipelineProducer',
        'tenant',
        tenant,
        `no tenant for the FIFO queue ${senderOptions.queueUrl}: its MessageGroupId is the ordering group, set per message as groupId (tenants are for standard queues, SQS fair queues)`,
      );
    }
    this.sender = new SqsBatchSender(senderOptions);
    this.router = routes === undefined ? undefined : new Router(routes);
    this.tenant = tenant;
  }

  /** Puts (creates or replaces) an item; resolves when SQS accepted the message. */
  put(item: PutMessage['item'], options: WriteOptions = {}): Promise<SendReceipt> {
    return this.sendMessage({ op: 'put', table: options.table, item, version: options.version }, options);
  }

  /** Deletes the item with this key; resolves when SQS accepted the message. */
  delete(key: DeleteMessage['key'], options: WriteOptions = {}): Promise<SendReceipt> {
    return this.sendMessage({ op: 'delete', table: options.table, key, version: options.version }, options);
  }

  /** Validates and sends one contract message; resolves when SQS accepted it. */
  async sendMessage(message: Message, options: MessageOptions = {}): Promise<SendReceipt> {
    const { receipt } = await this.enqueueMessage(message, options);
    return receipt;
  }

  /**
   * Validates one contract message and admits it to the sender's buffer, waiting while the buffer is
   * full; the receipt settles later. For streaming many messages with bounded memory.
   */
  async enqueueMessage(message: Message, options: MessageOptions = {}): Promise<PendingSend> {
    return this.sender.enqueue(this.toEntry(message, options));
  }

  /**
   * The SQS entry for a contract message: validated (and routed, with `routes`), serialised, with the
   * FIFO ids or the tenant. Throws `InvalidMessageError` (or a routing error) when the batch writer
   * would refuse it, `InvalidTenantError` for a tenant SQS would refuse.
   */
  toEntry(message: Message, options: MessageOptions = {}): SendEntry {
    try {
      if (this.sender.fifo && options.tenant !== undefined) {
        throw new InvalidTenantError(
          options.tenant,
          describeTarget(message),
          'a FIFO queue has no tenants: its MessageGroupId is the ordering group (groupId)',
        );
      }
      return messageEntry(message, options, this.router, this.tenant);
    } catch (error) {
      const reason = failureReason(error);
      this.invalid.set(reason, (this.invalid.get(reason) ?? 0) + 1);
      throw error;
    }
  }

  /** Sender counters, plus the messages refused by validation in `failed`/`failedByReason`. */
  get stats(): SenderStats {
    const stats = this.sender.stats;
    const failedByReason = { ...stats.failedByReason };
    let failed = stats.failed;
    for (const [reason, count] of this.invalid) {
      failedByReason[reason] = (failedByReason[reason] ?? 0) + count;
      failed += count;
    }
    return { ...stats, failed, failedByReason };
  }

  flush(): Promise<void> {
    return this.sender.flush();
  }

  close(): Promise<void> {
    return this.sender.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Builds the SQS entry of a contract message: validated with the batch writer's schema (and routed
 * by `router` when given), serialised, with the FIFO ids or the tenant (`options.tenant`, else
 * `tenant`) as its `MessageGroupId`. Throws what the batch writer would, or `InvalidTenantError`.
 */
export function messageEntry(
  message: Message,
  options: MessageOptions = {},
  router?: Router,
  tenant?: TenantOption,
): SendEntry {
  const valid = validateMessage(message);
  router?.toWriteRequest(valid);
  const tenantId = resolveTenant(valid, options.tenant ?? tenant);
  if (tenantId !== undefined && options.groupId !== undefined) {
    throw new InvalidTenantError(
      tenantId,
      describeTarget(valid),
      `the message also has groupId ${JSON.stringify(options.groupId)}: both would be its MessageGroupId; give one`,
    );
  }
  return {
    body: serialise(valid),
    messageGroupId: tenantId ?? options.groupId,
    messageDeduplicationId: options.dedupId,
    delaySeconds: options.delaySeconds,
    messageAttributes: options.messageAttributes,
  };
}

function serialise(message: Message): string {
  try {
    return JSON.stringify(message);
  } catch (cause) {
    const path = message.op === 'put' ? 'item' : 'key';
    const error = new InvalidMessageError(path, `is not JSON-serialisable: ${(cause as Error).message}`);
    throw Object.assign(error, { cause });
  }
}
