import { modelKey } from '../../shared/pipeline/inference/work-message.ts';
import type { InferenceBackend, LoadedModel, ModelRef } from './backends/types.ts';

/**
 * Loaded model versions, one load per version: the default one at start-up (with warm-up), others
 * on first use (a staged rollout sends a share of jobs to a new version). A failed load is not
 * cached, so the next job tries again.
 */
export class ModelRegistry {
  private readonly models = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly backend: InferenceBackend,
    private readonly onLoaded?: (model: LoadedModel) => void,
  ) {}

  get backendName(): string {
    return this.backend.name;
  }

  get(ref: ModelRef): Promise<LoadedModel> {
    const key = modelKey(ref.name, ref.version);
    let model = this.models.get(key);
    if (model === undefined) {
      model = this.backend.load(ref).then((loaded) => {
        this.onLoaded?.(loaded);
        return loaded;
      });
      this.models.set(key, model);
      model.catch(() => this.models.delete(key));
    }
    return model;
  }

  async disposeAll(): Promise<void> {
    const loaded = await Promise.allSettled(this.models.values());
    this.models.clear();
    await Promise.allSettled(loaded.map((r) => (r.status === 'fulfilled' ? r.value.dispose() : undefined)));
  }
}
