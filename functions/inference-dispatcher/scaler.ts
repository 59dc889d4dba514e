import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';
import type { ScaleOutcome, ServiceScaler } from './ports.ts';

export interface EcsServiceScalerOptions {
  readonly cluster: string;
  readonly service: string;
  /** Desired count set when the service is found at zero. @default 1 */
  readonly minTasks?: number;
  /**
   * How long a "the service wants tasks" answer is trusted, so a busy dispatcher does not ask ECS
   * on every invocation. @default inferenceSettings.dispatcher.scalerCacheMs (30 s)
   */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/**
 * Scale from zero through ECS: DescribeServices, and UpdateService(desiredCount) when the service
 * wants no tasks. CloudWatch's backlog alarm would get there too, but only after SQS publishes
 * metrics (minutes for an idle queue); this makes the first job start a task at once.
 */
export class EcsServiceScaler implements ServiceScaler {
  private readonly minTasks: number;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private runningSeenAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly client: ECSClient,
    private readonly options: EcsServiceScalerOptions,
  ) {
    this.minTasks = options.minTasks ?? 1;
    this.cacheMs = options.cacheMs ?? inferenceSettings.dispatcher.scalerCacheMs;
    this.now = options.now ?? Date.now;
  }

  async ensureRunning(): Promise<ScaleOutcome> {
    if (this.now() - this.runningSeenAt < this.cacheMs) return 'running';
    const { cluster, service } = this.options;
    const described = await this.client.send(new DescribeServicesCommand({ cluster, services: [service] }));
    const desired = described.services?.[0]?.desiredCount ?? 0;
    if (desired > 0) {
      this.runningSeenAt = this.now();
      return 'running';
    }
    await this.client.send(new UpdateServiceCommand({ cluster, service, desiredCount: this.minTasks }));
    this.runningSeenAt = this.now();
    return 'scaled-from-zero';
  }
}

/** No service to scale: local runs, tests, or a deployment without the GPU service. */
export class NoopServiceScaler implements ServiceScaler {
  async ensureRunning(): Promise<ScaleOutcome> {
    return 'disabled';
  }
}
