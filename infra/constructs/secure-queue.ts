import { Duration, Validations } from 'aws-cdk-lib';
import {
  DeduplicationScope,
  FifoThroughputLimit,
  Queue,
  QueueEncryption,
  type QueueProps,
} from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { writePathSettings } from '../../shared/pipeline/settings.ts';
import { InvalidPropError } from './errors.ts';

export interface SecureQueueProps {
  /**
   * FIFO queue and DLQ, in high-throughput mode (throughput and deduplication per message group)
   * with content-based deduplication, so a producer may omit the deduplication id.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * FIFO only: deduplicate by a hash of the body when a producer sends no deduplication id. Turn it
   * off where the same body may legitimately be sent twice within five minutes (e.g. "set x=1,
   * set x=2, set x=1"): producers must then send a MessageDeduplicationId.
   * @default true
   */
  readonly contentBasedDeduplication?: boolean;
  /** How long a received message stays hidden from other consumers. @default Duration.seconds(30) */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before SQS moves a message to the dead-letter queue (1..1000).
   * @default writePathSettings.queue.maxReceiveCount (5)
   */
  readonly maxReceiveCount?: number;
  /**
   * How long the queue keeps a message. The dead-letter queue always keeps messages for SQS's
   * maximum (14 days): a dead-lettered message keeps its first enqueue time, so a DLQ with the
   * source queue's retention would drop it almost at once.
   * @default Duration.days(writePathSettings.queue.retentionDays) (14 days)
   */
  readonly retentionPeriod?: Duration;
}

/**
 * A queue and its dead-letter queue, both encrypted at rest with SQS-managed keys and refusing
 * requests that do not use TLS.
 *
 * SQS-managed encryption rather than a customer KMS key: producers and consumers need no KMS
 * permissions, and a high-throughput queue makes no per-message KMS requests.
 */
export class SecureQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: SecureQueueProps = {}) {
    super(scope, id);
    this.maxReceiveCount = props.maxReceiveCount ?? writePathSettings.queue.maxReceiveCount;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1 || this.maxReceiveCount > 1000) {
      throw new InvalidPropError(
        'SecureQueue',
        'maxReceiveCount',
        String(this.maxReceiveCount),
        'use 1..1000',
      );
    }
    const common: QueueProps = {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      ...(props.fifo
        ? { ...fifoProps, contentBasedDeduplication: props.contentBasedDeduplication ?? true }
        : {}),
    };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...common,
      retentionPeriod: Duration.days(MAX_RETENTION_DAYS),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless::Serverless-SQSRedrivePolicy',
      reason:
        'This is the terminal dead-letter queue of its source queue; messages wait here for inspection and redrive',
    });
    this.queue = new Queue(this, 'Queue', {
      ...common,
      retentionPeriod: props.retentionPeriod ?? Duration.days(writePathSettings.queue.retentionDays),
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(30),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
    });
  }
}

/** SQS keeps a message at most 14 days. */
const MAX_RETENTION_DAYS = 14;

const fifoProps: QueueProps = {
  fifo: true,
  deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
  fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
};
