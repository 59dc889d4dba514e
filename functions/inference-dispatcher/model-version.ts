import { UnknownModelError } from '../../shared/pipeline/inference/errors.ts';
import type { ModelVersionResolver } from './ports.ts';

/** Model name → version, from the function's configuration (`MODELS`). */
export class StaticModelVersionResolver implements ModelVersionResolver {
  constructor(private readonly versions: Readonly<Record<string, string>>) {}

  async resolve(model: string): Promise<string> {
    const version = Object.hasOwn(this.versions, model) ? this.versions[model] : undefined;
    if (version === undefined) throw new UnknownModelError(model, Object.keys(this.versions));
    return version;
  }
}

/** Who asks for a snapshot: the snapshot reader assigns a staged rollout's candidate by `key`. */
export interface RolloutCaller {
  readonly key: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * The `models` section of the pipeline configuration snapshot as `caller` sees it (stable, or the
 * candidate when the caller falls inside a staged rollout); `undefined` when nothing is published.
 */
export type ModelsForCaller = (
  caller: RolloutCaller,
) => Promise<Readonly<Record<string, { readonly version: string }>> | undefined>;

/**
 * Model versions from the config snapshot, with staged rollout by hash of jobId: the caller key is
 * the jobId, so a job (and every redelivery of it) always lands on the same version while a
 * candidate rolls out. Models the snapshot does not name fall back to `fallback`.
 */
export class SnapshotModelVersionResolver implements ModelVersionResolver {
  constructor(
    private readonly modelsFor: ModelsForCaller,
    private readonly fallback: ModelVersionResolver,
  ) {}

  async resolve(model: string, jobId: string): Promise<string> {
    const models = await this.modelsFor({ key: jobId, attributes: { model } });
    const version = models && Object.hasOwn(models, model) ? models[model]?.version : undefined;
    return version ?? this.fallback.resolve(model, jobId);
  }
}
