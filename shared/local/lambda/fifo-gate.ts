import type { Message } from '@aws-sdk/client-sqs';

interface Block {
  /** Messages of the group that are in flight, waiting to come back: message id → sequence number. */
  readonly pending: Map<string, bigint>;
  /** By then every pending message has come back or moved to the DLQ: the block lapses. */
  until: number;
}

/**
 * Keeps FIFO message groups in order across failures. SQS hands out nothing of a group while a
 * message of it is in flight; local-aws-sqs does not hold the group back, so after a failure it
 * would hand out the group's later messages before the failed one comes back.
 *
 * The gate blocks a group when a message of it fails. While blocked, a message of the group is
 * admitted only when it is the earliest of the group still pending; any other is deferred: the
 * poller leaves it in flight, and it comes back after the visibility timeout, in order. A deferral
 * costs the message one receive more than on AWS, so give local FIFO queues a generous
 * maxReceiveCount.
 */
export class FifoGate {
  private readonly blocks = new Map<string, Block>();

  /** @param blockMs how long a message left in flight stays invisible: the visibility timeout plus a margin. */
  constructor(private readonly blockMs: number) {}

  /** Splits one receive into messages to process now and messages left in flight for later. */
  admit(messages: readonly Message[], now = Date.now()): { admitted: Message[]; deferred: Message[] } {
    const admitted: Message[] = [];
    const deferred: Message[] = [];
    for (const message of messages) {
      const group = groupOf(message);
      const block = this.blocks.get(group);
      if (!block || now > block.until) {
        this.blocks.delete(group);
        admitted.push(message);
        continue;
      }
      const id = message.MessageId ?? '';
      if (block.pending.has(id) && isEarliest(block, id)) {
        block.pending.delete(id);
        if (block.pending.size === 0) this.blocks.delete(group);
        admitted.push(message);
        continue;
      }
      block.pending.set(id, sequenceOf(message));
      block.until = Math.max(block.until, now + this.blockMs);
      deferred.push(message);
    }
    return { admitted, deferred };
  }

  /** Blocks the groups of messages that failed; `receivedAt` is when their receive was sent. */
  fail(messages: readonly Message[], receivedAt: number): void {
    for (const message of messages) {
      const group = groupOf(message);
      const block = this.blocks.get(group) ?? { pending: new Map<string, bigint>(), until: 0 };
      block.pending.set(message.MessageId ?? '', sequenceOf(message));
      block.until = Math.max(block.until, receivedAt + this.blockMs);
      this.blocks.set(group, block);
    }
  }
}

function isEarliest(block: Block, id: string): boolean {
  const sequence = block.pending.get(id)!;
  for (const other of block.pending.values()) if (other < sequence) return false;
  return true;
}

function groupOf(message: Message): string {
  return message.Attributes?.MessageGroupId ?? '';
}

function sequenceOf(message: Message): bigint {
  const sequence = message.Attributes?.SequenceNumber;
  return sequence && /^\d+$/.test(sequence) ? BigInt(sequence) : 0n;
}
