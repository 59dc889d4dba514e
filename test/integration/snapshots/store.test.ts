import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pseudoRandomDocument } from './documents.ts';
import type { SnapshotFixture } from './support.ts';
import { snapshotFixture } from './support.ts';

describe('snapshot store on DynamoDB', () => {
  let fx: SnapshotFixture;
  beforeAll(async () => {
    fx = await snapshotFixture();
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('round-trips a 1 KB document', async () => {
    // Prepare
    const document = pseudoRandomDocument(1024, 1);
    // Act
    const published = await fx.publisher.publish('small', document, { source: 'test' });
    const reader = fx.reader({ name: 'small' });
    const snapshot = await reader.load();
    // Assess
    expect(published.manifest.chunkCount).toBe(1);
    expect(snapshot.version).toBe(published.manifest.version);
    expect(snapshot.data).toEqual(document);
    expect(Object.isFrozen(snapshot.data)).toBe(true);
  });

  it('round-trips a 50 MB document split into chunks below the item limit', async () => {
    // Prepare
    const document = pseudoRandomDocument(50 * 1024 * 1024, 2);
    // Act
    const published = await fx.publisher.publish('large', document, { source: 'test' });
    const reader = fx.reader({ name: 'large' });
    const snapshot = await reader.load();
    // Assess
    expect(published.manifest.bytes).toBeGreaterThanOrEqual(50 * 1024 * 1024);
    expect(published.manifest.chunkCount).toBeGreaterThan(1);
    expect(snapshot.sha256).toBe(published.manifest.sha256);
    expect(snapshot.data).toEqual(document);
  });
});
