import { inferenceSettings } from '../../shared/pipeline/inference/settings.ts';

/**
 * ECS task scale-in protection while the worker is busy, so that scaling in never stops a task in
 * the middle of a batch. The ECS agent's endpoint (`$ECS_AGENT_URI/task-protection/v1/state`) sets
 * it; protection expires on its own, so it is renewed while the worker stays busy.
 */
export interface TaskProtection {
  /** Tell it whether work is in flight; calls are cheap, it only talks to ECS on changes and renewals. */
  setBusy(busy: boolean): Promise<void>;
}

/** What the protection should do next, given what it knows. */
export type ProtectionAction = 'enable' | 'disable' | 'none';

export interface ProtectionState {
  /** Whether protection is on, as far as the last successful call said. */
  readonly enabled: boolean;
  /** When the current protection expires (epoch ms). */
  readonly expiresAt: number;
}

/**
 * Pure decision: protect when busy and not protected (or expiring within `renewBeforeMs`),
 * unprotect when idle and protected.
 */
export function protectionAction(
  state: ProtectionState,
  busy: boolean,
  now: number,
  renewBeforeMs: number,
): ProtectionAction {
  if (busy) return !state.enabled || state.expiresAt - now <= renewBeforeMs ? 'enable' : 'none';
  return state.enabled ? 'disable' : 'none';
}

export interface EcsTaskProtectionOptions {
  /** `ECS_AGENT_URI`, set by the ECS agent in every task. */
  readonly agentUri: string;
  /** @default inferenceSettings.worker.taskProtectionMinutes (15) */
  readonly expiresInMinutes?: number;
  /** Renew this long before expiry. @default a third of the protection period */
  readonly renewBeforeMs?: number;
  readonly onError?: (error: unknown) => void;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

export class EcsTaskProtection implements TaskProtection {
  private state: ProtectionState = { enabled: false, expiresAt: 0 };
  private readonly minutes: number;
  private readonly renewBeforeMs: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private chain: Promise<void> = Promise.resolve();
  private wanted = false;

  constructor(private readonly options: EcsTaskProtectionOptions) {
    this.minutes = options.expiresInMinutes ?? inferenceSettings.worker.taskProtectionMinutes;
    this.renewBeforeMs = options.renewBeforeMs ?? (this.minutes * 60_000) / 3;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  setBusy(busy: boolean): Promise<void> {
    this.wanted = busy;
    // Serialised: the last wish wins, and calls never overlap.
    this.chain = this.chain.then(() => this.apply());
    return this.chain;
  }

  private async apply(): Promise<void> {
    const action = protectionAction(this.state, this.wanted, this.now(), this.renewBeforeMs);
    if (action === 'none') return;
    const enable = action === 'enable';
    try {
      const response = await this.fetch(`${this.options.agentUri}/task-protection/v1/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          enable ? { ProtectionEnabled: true, ExpiresInMinutes: this.minutes } : { ProtectionEnabled: false },
        ),
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await response.json().catch(() => ({}))) as { failure?: unknown; error?: unknown };
      if (!response.ok || body.failure || body.error) {
        throw new Error(
          `task protection ${action}: HTTP ${response.status} ${JSON.stringify(body.failure ?? body.error ?? {})}`,
        );
      }
      this.state = { enabled: enable, expiresAt: enable ? this.now() + this.minutes * 60_000 : 0 };
    } catch (error) {
      // Without protection a scale-in may stop the task; SIGTERM then hands the work back.
      this.options.onError?.(error);
    }
  }
}

/** Outside ECS (local runs, tests): nothing to protect. */
export class NoTaskProtection implements TaskProtection {
  async setBusy(): Promise<void> {}
}
