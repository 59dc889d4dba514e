import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../../../shared/cli/dlq/token-bucket.ts';

/** A bucket on a fake clock whose sleeps advance it. */
function fakeBucket(ratePerSecond: number) {
  let now = 0;
  const sleeps: number[] = [];
  const bucket = new TokenBucket({
    ratePerSecond,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  });
  return { bucket, sleeps, elapsed: () => now };
}

describe('TokenBucket', () => {
  it('starts with one receive batch of tokens, then hands out the rate', async () => {
    // Prepare
    const { bucket, elapsed } = fakeBucket(20);
    // Act
    const taken: number[] = [];
    for (let i = 0; i < 4; i++) taken.push(await bucket.take(10));
    // Assess: 10 at once, then 10 every half second.
    expect(taken).toEqual([10, 10, 10, 10]);
    expect(elapsed()).toBeGreaterThanOrEqual(1500);
    expect(elapsed()).toBeLessThan(1600);
  });

  it('spaces single messages below one a second', async () => {
    const { bucket, elapsed } = fakeBucket(0.5);
    expect(bucket.capacity).toBe(1);
    await bucket.take(10);
    await bucket.take(10);
    expect(elapsed()).toBe(2000);
  });

  it('takes back the tokens a receive did not use', async () => {
    const { bucket, sleeps } = fakeBucket(10);
    await bucket.take(10);
    bucket.refund(7);
    expect(await bucket.take(7)).toBe(7);
    expect(sleeps).toEqual([]);
  });
});
