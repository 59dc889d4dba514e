import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWritePath, type WritePathHarness } from '../../support/write-path-harness.ts';

// The test app's FIFO write path on the local cloud (FIFO ingest queue and DLQ, batches of 10).
let pipeline: WritePathHarness;

beforeAll(async () => {
  pipeline = await startWritePath({ stack: 'fifo' });
});

afterAll(async () => {
  try {
    expect(pipeline.denials()).toEqual([]);
  } finally {
    await pipeline?.stop();
  }
});

describe('write path on a FIFO queue', () => {
  it('applies each message group in order, so the last message of a group wins per key', async () => {
    // Prepare: three groups, each writing its own key 20 times in sequence.
    const bodies = Array.from({ length: 60 }, (_, i) => ({
      op: 'put',
      item: { pk: `group-${i % 3}`, sk: '1', seq: Math.floor(i / 3) },
    }));
    // Act
    await pipeline.send(bodies, { groupId: (i) => `g${i % 3}` });
    await pipeline.drain();
    // Assess
    expect(pipeline.poller.fifo).toBe(true);
    const items = await pipeline.items();
    for (let g = 0; g < 3; g++) expect(items.get(`group-${g}`)).toMatchObject({ seq: 19 });
  });

  it('dead-letters a bad message without blocking the rest of its group', async () => {
    await pipeline.send(
      [
        { op: 'put', item: { pk: 'fifo-a', sk: '1', n: 1 } },
        'not json',
        { op: 'put', item: { pk: 'fifo-a', sk: '1', n: 2 } },
      ],
      { groupId: () => 'g-bad' },
    );
    await pipeline.drain();
    expect((await pipeline.items()).get('fifo-a')).toMatchObject({ n: 2 });
    expect((await pipeline.deadLetters()).map((l) => l.errorCode)).toEqual(['INVALID_JSON']);
  });
});
