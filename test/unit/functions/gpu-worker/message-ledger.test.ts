import { describe, expect, it } from 'vitest';
import { MessageLedger } from '../../../../functions/gpu-worker/message-ledger.ts';
import { NoTaskProtection } from '../../../../functions/gpu-worker/task-protection.ts';
import { FakeWorkSource, silentLogger, workJob } from '../../../support/fakes/inference.ts';

function setup() {
  const source = new FakeWorkSource();
  const ledger = new MessageLedger({
    source,
    protection: new NoTaskProtection(),
    logger: silentLogger,
    visibilityTimeoutSeconds: 30,
    heartbeatIntervalMs: 60_000,
  });
  return { source, ledger };
}

/** Lets the ledger's once-per-tick flush run, then waits for its queue calls. */
async function nextTick(ledger: MessageLedger): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await ledger.idle();
}

describe('MessageLedger', () => {
  it('deletes the messages finished in one tick with one batched call', async () => {
    // Prepare
    const { source, ledger } = setup();
    const messages = [1, 2, 3].map((n) => source.pushBody(`body ${n}`));
    const held = messages.map((m) => ledger.hold(m, 1));
    // Act
    for (const h of held) ledger.settle(h, 'durable');
    await nextTick(ledger);
    // Assess
    expect(source.calls).toEqual([{ op: 'delete', messageIds: messages.map((m) => m.messageId) }]);
    expect(ledger.jobsHeld).toBe(0);
  });

  it('waits for the last job of a message, then hands it back with a backoff if any job needs a retry', async () => {
    // Prepare
    const { source, ledger } = setup();
    const message = source.push([workJob('a'), workJob('b')], 3);
    const held = ledger.hold(message, 2);
    // Act
    ledger.settle(held, 'retry');
    await nextTick(ledger);
    const afterFirst = [...source.calls];
    ledger.settle(held, 'durable');
    await nextTick(ledger);
    // Assess
    expect(afterFirst).toEqual([]);
    expect(source.calls).toEqual([{ op: 'changeVisibility', messageIds: [message.messageId], seconds: 4 }]);
  });

  it('once stopped, hands retried and still-held messages back at once and counts them', async () => {
    // Prepare
    const { source, ledger } = setup();
    const retried = ledger.hold(source.pushBody('retried', 3), 1);
    const stillHeld = source.pushBody('held');
    ledger.hold(stillHeld, 2);
    // Act
    ledger.stop();
    ledger.settle(retried, 'retry');
    ledger.releaseAll();
    await nextTick(ledger);
    // Assess
    expect(source.calls).toEqual([
      { op: 'changeVisibility', messageIds: [retried.message.messageId, stillHeld.messageId], seconds: 0 },
    ]);
    expect(ledger.released).toBe(2);
  });
});
