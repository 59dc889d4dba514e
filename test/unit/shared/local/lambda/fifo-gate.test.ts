import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { FifoGate } from '../../../../../shared/local/lambda/fifo-gate.ts';

/** A received FIFO message: `b3` is the third message of group `b`. */
function received(name: string): Message {
  const [group = '', position = '0'] = [name.slice(0, 1), name.slice(1)];
  return {
    MessageId: name,
    Body: name,
    Attributes: { MessageGroupId: group, SequenceNumber: String(1000 + Number(position)) },
  };
}
const names = (messages: Message[]) => messages.map((message) => message.MessageId);

describe('FifoGate', () => {
  const blockMs = 2_000;

  it('admits everything while no group has failed', () => {
    // Prepare
    const gate = new FifoGate(blockMs);
    // Act
    const { admitted, deferred } = gate.admit(['a1', 'b1', 'a2'].map(received), 0);
    // Assess
    expect(names(admitted)).toEqual(['a1', 'b1', 'a2']);
    expect(deferred).toEqual([]);
  });

  it('defers later messages of a failed group and admits other groups', () => {
    // Prepare
    const gate = new FifoGate(blockMs);
    gate.fail([received('b2')], 0);
    // Act
    const { admitted, deferred } = gate.admit(['a3', 'b3', 'c1'].map(received), 100);
    // Assess
    expect(names(admitted)).toEqual(['a3', 'c1']);
    expect(names(deferred)).toEqual(['b3']);
  });

  it('admits the failed message when it comes back, then the deferred ones in order', () => {
    // Prepare
    const gate = new FifoGate(blockMs);
    gate.fail([received('b2')], 0);
    gate.admit([received('b3')], 100);
    // Act
    const early = gate.admit([received('b3')], 1_500);
    const retry = gate.admit([received('b2')], 1_600);
    const later = gate.admit([received('b3'), received('b4')], 2_200);
    // Assess
    expect(names(early.deferred)).toEqual(['b3']);
    expect(names(retry.admitted)).toEqual(['b2']);
    expect(names(later.admitted)).toEqual(['b3', 'b4']);
  });

  it('defers a pending message while an earlier one of its group is still pending', () => {
    // Prepare
    const gate = new FifoGate(blockMs);
    gate.fail([received('b2'), received('b3')], 0);
    // Act
    const { admitted, deferred } = gate.admit([received('b3')], 500);
    // Assess
    expect(admitted).toEqual([]);
    expect(names(deferred)).toEqual(['b3']);
  });

  it('lifts the block once the failed messages can no longer come back', () => {
    // Prepare
    const gate = new FifoGate(blockMs);
    gate.fail([received('b2')], 0);
    // Act
    const { admitted } = gate.admit([received('b5')], blockMs + 1);
    // Assess
    expect(names(admitted)).toEqual(['b5']);
  });
});
