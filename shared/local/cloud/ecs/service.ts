import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PipelineError } from '../../../core/errors.ts';
import {
  functionOption,
  InvalidOptionError,
  integerOption,
  numberOption,
  type OptionsSchema,
  objectOption,
  parseOptions,
} from '../../../core/options.ts';
import type { LocalEcsService as DeployedEcsService } from '../deploy.ts';

/** What a local ECS service takes from the template: an entry of `LocalDeployment.ecsServices` fits. */
export type EcsServiceSpec = Pick<
  DeployedEcsService,
  'arn' | 'name' | 'clusterName' | 'clusterArn' | 'environment' | 'taskRoleArn'
>;

/** One task the service asks its launcher to start. */
export interface EcsTaskLaunch {
  /** `arn:aws:ecs:<region>:<account>:task/<cluster>/<32 hex id>`. */
  readonly taskArn: string;
  /** What the task gets as `ECS_AGENT_URI` (its task-protection endpoint lies below it). */
  readonly agentUri: string;
  /** The template's container environment; the launcher adds the local overrides (credentials, endpoints, `ECS_AGENT_URI`). */
  readonly env: Readonly<Record<string, string>>;
}

/** A started task, as the launcher hands it back; `spawnLocalWorker`'s `LocalWorker` is one. */
export interface EcsTaskHandle {
  /** Settles once the task's process is gone, whoever stopped it. */
  readonly exited: Promise<unknown>;
  /** Settles once the task can work; until then it counts as pending. @default ready when launched */
  readonly ready?: Promise<unknown>;
  /** Asks the task to stop (SIGTERM), killing it after `graceMs`; settles on exit. */
  stop(graceMs: number): Promise<unknown>;
}

/** Starts one task. Throwing counts as a failed start (retried with a back-off). */
export type EcsTaskLauncher = (task: EcsTaskLaunch) => EcsTaskHandle;

/** A task's scale-in protection, as ECS's GetTaskProtection reports it. */
export interface EcsTaskProtectionState {
  readonly taskArn: string;
  readonly protectionEnabled: boolean;
  /** When the protection lapses; absent when the task is not protected. */
  readonly expirationDate?: Date;
}

/** A task of the service now, in ECS's words. */
export interface EcsTask {
  readonly taskArn: string;
  readonly agentUri: string;
  /** `PENDING` until its handle's `ready` settles. */
  readonly lastStatus: 'PENDING' | 'RUNNING';
  /** `STOPPED` once the scheduler stops it (scale-in, `stop`); it stays listed until it has exited. */
  readonly desiredStatus: 'RUNNING' | 'STOPPED';
  readonly protection: EcsTaskProtectionState;
}

/** A change of a task's protection, as the task-protection endpoint takes it. */
export interface EcsTaskProtectionUpdate {
  readonly protectionEnabled: boolean;
  /** How long the protection lasts, 1 to 2,880 minutes; ignored when disabling. @default 120 (ECS's default) */
  readonly expiresInMinutes?: number;
}

export interface LocalEcsServiceOptions {
  readonly spec: EcsServiceSpec;
  readonly launch: EcsTaskLauncher;
  /** The `ECS_AGENT_URI` of a task: the local ECS endpoint's `agentUri`. */
  readonly agentUri: (taskArn: string) => string;
  /**
   * The largest desired count the service takes. ECS allows 5,000 tasks a service; a local machine
   * runs a few worker processes at most. @default 10
   */
  readonly maxDesiredCount?: number;
  /** Between SIGTERM and kill when the scheduler stops a task: ECS's default `stopTimeout`. @default 30_000 */
  readonly stopGraceMs?: number;
  /** The clock protection expiry is measured on. @default Date.now */
  readonly now?: () => number;
  /** Gets one line per task that exited on its own or failed to launch. @default dropped */
  readonly log?: (line: string) => void;
}

const LocalEcsServiceOptionsSchema = z.object({
  spec: objectOption<EcsServiceSpec>('an ECS service of the deployment (LocalDeployment.ecsServices)'),
  launch: functionOption<EcsTaskLauncher>(),
  agentUri: functionOption<(taskArn: string) => string>(),
  maxDesiredCount: integerOption(0, 5000).default(10),
  stopGraceMs: numberOption(0).default(30_000),
  now: functionOption<() => number>().default(() => () => Date.now()),
  log: functionOption<(line: string) => void>().optional(),
}) satisfies OptionsSchema<LocalEcsServiceOptions>;

/** ECS's bounds on `expiresInMinutes`, and its default. */
const PROTECTION_MINUTES = { min: 1, max: 2880, default: 120 } as const;

/** Base of the local ECS's errors, so callers can catch any of them. */
export abstract class LocalEcsError extends PipelineError {}

/** A desired count that is not an integer from 0 to the service's maximum. */
export class InvalidDesiredCountError extends LocalEcsError {
  readonly code = 'ECS_INVALID_DESIRED_COUNT';
  constructor(
    readonly serviceName: string,
    readonly received: unknown,
    readonly max: number,
  ) {
    super(
      `service ${serviceName}: desiredCount ${String(received)} is out of range; use an integer from 0 to ` +
        `${max} (the local ECS's maxDesiredCount)`,
    );
  }
}

/** A task the service does not run (never started, or already exited). */
export class UnknownTaskError extends LocalEcsError {
  readonly code = 'ECS_UNKNOWN_TASK';
  constructor(
    readonly serviceName: string,
    readonly taskArn: string,
  ) {
    super(`service ${serviceName} runs no task ${taskArn}`);
  }
}

/** An `expiresInMinutes` ECS would refuse. */
export class InvalidTaskProtectionError extends LocalEcsError {
  readonly code = 'ECS_INVALID_TASK_PROTECTION';
  constructor(
    readonly taskArn: string,
    readonly expiresInMinutes: unknown,
  ) {
    super(
      `task ${taskArn}: expiresInMinutes ${String(expiresInMinutes)} is out of range; use an integer from ` +
        `${PROTECTION_MINUTES.min} to ${PROTECTION_MINUTES.max}`,
    );
  }
}

/** The service was stopped: it starts no more tasks. */
export class LocalEcsServiceStoppedError extends LocalEcsError {
  readonly code = 'ECS_SERVICE_STOPPED';
  constructor(readonly serviceName: string) {
    super(`service ${serviceName} is stopped`);
  }
}

interface TaskRecord {
  readonly taskArn: string;
  readonly agentUri: string;
  /** Launch order: scale-in stops the newest first. */
  readonly sequence: number;
  handle?: EcsTaskHandle;
  lastStatus: 'PENDING' | 'RUNNING';
  desiredStatus: 'RUNNING' | 'STOPPED';
  /** Epoch ms the protection lapses at; 0 when never protected or unprotected. */
  protectedUntil: number;
}

/**
 * The delay before the next launch after `failures` tasks in a row failed to start (exited before
 * they were ready, or the launcher threw): none for the first, then 1 s doubling to 30 s, as ECS
 * throttles a service whose tasks keep failing.
 */
function launchDelayMs(failures: number): number {
  return failures <= 1 ? 0 : Math.min(1000 * 2 ** (failures - 2), 30_000);
}

/**
 * One ECS service's scheduler, locally: it keeps as many tasks as the desired count by starting and
 * stopping them through `launch` (worker processes in the local cloud, fakes in tests).
 *
 * - Scale-in stops unprotected tasks only (not-ready ones first, then the newest): a task with
 *   scale-in protection keeps running above the desired count until its protection is disabled or
 *   expires, as ECS honours task protection.
 * - A task that exits on its own is replaced while fewer tasks run than desired, as the ECS
 *   scheduler replaces it; tasks that keep failing to start are relaunched with a growing delay.
 * - `runningCount` counts ready tasks, `pendingCount` the others; a task being stopped counts until
 *   it has exited, as in ECS.
 *
 * @example
 * const service = new LocalEcsService({ spec, agentUri, launch: (task) => spawnLocalWorker({ env: { ...task.env, ECS_AGENT_URI: task.agentUri } }) });
 * service.setDesiredCount(1);
 */
export class LocalEcsService {
  readonly arn: string;
  readonly name: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly taskRoleArn: string | undefined;
  readonly maxDesiredCount: number;
  private readonly environment: Readonly<Record<string, string>>;
  private readonly taskArnPrefix: string;
  private readonly launch: EcsTaskLauncher;
  private readonly agentUriOf: (taskArn: string) => string;
  private readonly stopGraceMs: number;
  private readonly now: () => number;
  private readonly log: ((line: string) => void) | undefined;
  private readonly records = new Map<string, TaskRecord>();
  private desired = 0;
  private sequence = 0;
  private failedStarts = 0;
  private launchTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;

  /** @throws InvalidOptionError when an option is out of range, or `spec.arn` is not an ECS service ARN. */
  constructor(options: LocalEcsServiceOptions) {
    const o = parseOptions('LocalEcsService', LocalEcsServiceOptionsSchema, options);
    const [, , service, region, account] = o.spec.arn.split(':');
    if (service !== 'ecs' || !region || !account) {
      throw new InvalidOptionError(
        'LocalEcsService',
        'spec.arn',
        o.spec.arn,
        'an ECS service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/<name>)',
      );
    }
    this.arn = o.spec.arn;
    this.name = o.spec.name;
    this.clusterName = o.spec.clusterName;
    this.clusterArn = o.spec.clusterArn;
    this.taskRoleArn = o.spec.taskRoleArn;
    this.environment = o.spec.environment;
    this.taskArnPrefix = `arn:aws:ecs:${region}:${account}:task/${o.spec.clusterName}/`;
    this.maxDesiredCount = o.maxDesiredCount;
    this.launch = o.launch;
    this.agentUriOf = o.agentUri;
    this.stopGraceMs = o.stopGraceMs;
    this.now = o.now;
    this.log = o.log;
  }

  get desiredCount(): number {
    return this.desired;
  }

  /** Ready tasks, those being stopped included. */
  get runningCount(): number {
    return this.count('RUNNING');
  }

  /** Started tasks that are not ready yet. */
  get pendingCount(): number {
    return this.count('PENDING');
  }

  /** The service's tasks now, in launch order. */
  tasks(): EcsTask[] {
    return [...this.records.values()].map((record) => this.view(record));
  }

  /** The task with this ARN, while it runs. */
  task(taskArn: string): EcsTask | undefined {
    const record = this.records.get(taskArn);
    return record && this.view(record);
  }

  /**
   * The handle `launch` returned for this task while it runs (a `LocalWorker` in the local cloud):
   * lets a test watch a task's logs or crash it as an instance failure would.
   */
  taskHandle(taskArn: string): EcsTaskHandle | undefined {
    return this.records.get(taskArn)?.handle;
  }

  /**
   * Sets how many tasks should run and starts or stops tasks to match.
   *
   * @throws InvalidDesiredCountError unless `count` is an integer from 0 to `maxDesiredCount`
   * @throws LocalEcsServiceStoppedError once `stop` was called
   */
  setDesiredCount(count: number): void {
    if (this.stopped) throw new LocalEcsServiceStoppedError(this.name);
    if (!Number.isInteger(count) || count < 0 || count > this.maxDesiredCount) {
      throw new InvalidDesiredCountError(this.name, count, this.maxDesiredCount);
    }
    this.desired = count;
    this.reconcile();
  }

  /** @throws UnknownTaskError when the service runs no such task */
  protection(taskArn: string): EcsTaskProtectionState {
    return this.protectionOf(this.record(taskArn));
  }

  /**
   * Enables (or renews) or disables a task's scale-in protection; disabling it lets a pending
   * scale-in stop the task.
   *
   * @throws UnknownTaskError when the service runs no such task
   * @throws InvalidTaskProtectionError when enabling with `expiresInMinutes` outside 1 to 2,880
   */
  updateProtection(taskArn: string, update: EcsTaskProtectionUpdate): EcsTaskProtectionState {
    const record = this.record(taskArn);
    if (update.protectionEnabled) {
      const minutes = update.expiresInMinutes ?? PROTECTION_MINUTES.default;
      if (
        !Number.isInteger(minutes) ||
        minutes < PROTECTION_MINUTES.min ||
        minutes > PROTECTION_MINUTES.max
      ) {
        throw new InvalidTaskProtectionError(taskArn, minutes);
      }
      record.protectedUntil = this.now() + minutes * 60_000;
    } else {
      record.protectedUntil = 0;
    }
    this.reconcile();
    return this.protectionOf(record);
  }

  /** Stops every task, protected or not, and resolves once all have exited. Safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async stopAll(): Promise<void> {
    clearTimeout(this.launchTimer);
    clearTimeout(this.expiryTimer);
    const records = [...this.records.values()];
    for (const record of records) if (record.desiredStatus === 'RUNNING') this.stopTask(record);
    await Promise.all(records.map((record) => record.handle?.exited.catch(() => undefined)));
  }

  private count(status: TaskRecord['lastStatus']): number {
    let count = 0;
    for (const record of this.records.values()) if (record.lastStatus === status) count++;
    return count;
  }

  private record(taskArn: string): TaskRecord {
    const record = this.records.get(taskArn);
    if (!record) throw new UnknownTaskError(this.name, taskArn);
    return record;
  }

  private view(record: TaskRecord): EcsTask {
    const { taskArn, agentUri, lastStatus, desiredStatus } = record;
    return { taskArn, agentUri, lastStatus, desiredStatus, protection: this.protectionOf(record) };
  }

  private protectionOf(record: TaskRecord): EcsTaskProtectionState {
    return this.isProtected(record)
      ? { taskArn: record.taskArn, protectionEnabled: true, expirationDate: new Date(record.protectedUntil) }
      : { taskArn: record.taskArn, protectionEnabled: false };
  }

  private isProtected(record: TaskRecord): boolean {
    return record.protectedUntil > this.now();
  }

  /** Starts or stops tasks until as many as desired are meant to run. */
  private reconcile(): void {
    if (this.stopped) return;
    const active = [...this.records.values()].filter((record) => record.desiredStatus === 'RUNNING');
    if (active.length < this.desired) this.scaleOut(this.desired - active.length);
    else if (active.length > this.desired) this.scaleIn(active, active.length - this.desired);
    this.watchExpiry();
  }

  private scaleOut(missing: number): void {
    // A launch back-off is running: its timer reconciles when it ends.
    if (this.launchTimer !== undefined) return;
    for (let i = 0; i < missing; i++) {
      if (!this.launchTask()) return;
    }
  }

  private scaleIn(active: readonly TaskRecord[], excess: number): void {
    const stoppable = active
      .filter((record) => !this.isProtected(record))
      .sort((a, b) => pendingFirst(a, b) || b.sequence - a.sequence);
    for (const record of stoppable.slice(0, excess)) this.stopTask(record);
  }

  /** When protected tasks hold the service above its desired count, reconciles again as the first protection lapses. */
  private watchExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const active = [...this.records.values()].filter((record) => record.desiredStatus === 'RUNNING');
    if (active.length <= this.desired) return;
    const lapses = active.filter((record) => this.isProtected(record)).map((record) => record.protectedUntil);
    if (lapses.length === 0) return;
    this.expiryTimer = setTimeout(() => this.reconcile(), Math.min(...lapses) - this.now());
    this.expiryTimer.unref();
  }

  /** Launches one task; false when the launcher threw (a retry is scheduled). */
  private launchTask(): boolean {
    const taskArn = `${this.taskArnPrefix}${randomBytes(16).toString('hex')}`;
    const record: TaskRecord = {
      taskArn,
      agentUri: this.agentUriOf(taskArn),
      sequence: this.sequence++,
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      protectedUntil: 0,
    };
    // Known before it starts: a task may call its agent endpoint as soon as it runs.
    this.records.set(taskArn, record);
    let handle: EcsTaskHandle;
    try {
      handle = this.launch({ taskArn, agentUri: record.agentUri, env: this.environment });
    } catch (error) {
      this.records.delete(taskArn);
      this.failedStarts++;
      this.log?.(`ecs: service ${this.name} could not launch task ${taskArn}: ${String(error)}`);
      this.relaunchLater();
      return false;
    }
    record.handle = handle;
    if (handle.ready === undefined) record.lastStatus = 'RUNNING';
    else {
      handle.ready.then(
        () => {
          if (this.records.get(taskArn) !== record) return;
          record.lastStatus = 'RUNNING';
          this.failedStarts = 0;
        },
        // A task that is never ready exits, and its exit is handled.
        () => undefined,
      );
    }
    const exited = () => this.taskExited(record);
    handle.exited.then(exited, exited);
    return true;
  }

  private stopTask(record: TaskRecord): void {
    record.desiredStatus = 'STOPPED';
    record.handle?.stop(this.stopGraceMs).catch((error: unknown) => {
      this.log?.(`ecs: service ${this.name} could not stop task ${record.taskArn}: ${String(error)}`);
    });
  }

  private taskExited(record: TaskRecord): void {
    if (this.records.get(record.taskArn) !== record) return;
    this.records.delete(record.taskArn);
    if (record.desiredStatus === 'STOPPED' || this.stopped) return;
    if (record.lastStatus === 'PENDING') this.failedStarts++;
    this.log?.(`ecs: task ${record.taskArn} of service ${this.name} exited on its own`);
    this.relaunchLater();
  }

  /** Reconciles after the launch back-off, never in the same tick: a task that dies at once cannot spin. */
  private relaunchLater(): void {
    if (this.launchTimer !== undefined || this.stopped) return;
    this.launchTimer = setTimeout(() => {
      this.launchTimer = undefined;
      this.reconcile();
    }, launchDelayMs(this.failedStarts));
    this.launchTimer.unref();
  }
}

function pendingFirst(a: TaskRecord, b: TaskRecord): number {
  return (a.lastStatus === 'PENDING' ? 0 : 1) - (b.lastStatus === 'PENDING' ? 0 : 1);
}
