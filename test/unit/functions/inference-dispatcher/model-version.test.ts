import { describe, expect, it } from 'vitest';
import {
  type ModelsForCaller,
  SnapshotModelVersionResolver,
  StaticModelVersionResolver,
} from '../../../../functions/inference-dispatcher/model-version.ts';
import { inRollout } from '../../../../shared/snapshots/rollout.ts';

describe('StaticModelVersionResolver', () => {
  it('resolves configured models and rejects others, listing the known ones', async () => {
    // Prepare
    const resolver = new StaticModelVersionResolver({ 'shelf-classifier': '1' });
    // Act & Assess
    await expect(resolver.resolve('shelf-classifier')).resolves.toBe('1');
    await expect(resolver.resolve('toString')).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
    await expect(resolver.resolve('other')).rejects.toThrow('known: shelf-classifier');
  });
});

describe('SnapshotModelVersionResolver', () => {
  // A snapshot reader stand-in: v1 stable, v2 a candidate for 30% of callers by key.
  const modelsFor: ModelsForCaller = async (caller) =>
    inRollout('pipeline', { version: 2, percentage: 30 }, caller)
      ? { 'shelf-classifier': { version: '2' } }
      : { 'shelf-classifier': { version: '1' } };

  it('assigns each jobId one version, the same on every call, in about the rollout share', async () => {
    // Prepare
    const resolver = new SnapshotModelVersionResolver(modelsFor, new StaticModelVersionResolver({}));
    const ids = Array.from({ length: 2_000 }, (_, i) => `job-${i}`);
    // Act
    const first = await Promise.all(ids.map((id) => resolver.resolve('shelf-classifier', id)));
    const again = await Promise.all(ids.map((id) => resolver.resolve('shelf-classifier', id)));
    // Assess
    expect(again).toEqual(first);
    const share = first.filter((v) => v === '2').length / ids.length;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
  });

  it('falls back to the static versions for a model the snapshot does not name, or when none is published', async () => {
    // Prepare
    const fallback = new StaticModelVersionResolver({ other: '9', 'shelf-classifier': '1' });
    const named = new SnapshotModelVersionResolver(modelsFor, fallback);
    const unpublished = new SnapshotModelVersionResolver(async () => undefined, fallback);
    // Act & Assess
    await expect(named.resolve('other', 'j')).resolves.toBe('9');
    await expect(unpublished.resolve('shelf-classifier', 'j')).resolves.toBe('1');
  });
});
