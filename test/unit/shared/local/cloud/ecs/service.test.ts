import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type EcsServiceSpec,
  type EcsTaskHandle,
  type EcsTaskLaunch,
  InvalidDesiredCountError,
  InvalidTaskProtectionError,
  LocalEcsService,
  LocalEcsServiceStoppedError,
  UnknownTaskError,
} from '../../../../../../shared/local/cloud/ecs/index.ts';

const spec: EcsServiceSpec = {
  arn: 'arn:aws:ecs:eu-west-1:123456789012:service/workers/gpu',
  name: 'gpu',
  clusterName: 'workers',
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/workers',
  environment: { WORK_QUEUE_URL: 'http://127.0.0.1:1/123456789012/work' },
};

/** A task without a process: it exits when stopped or when the test crashes it. */
interface FakeTask {
  readonly launch: EcsTaskLaunch;
  /** The grace periods `stop` was called with. */
  readonly stops: number[];
  exited: boolean;
  crash(): void;
  markReady(): void;
}

/** Launches fake tasks; with `manualReady`, a task is pending until `markReady`. */
function fakeLauncher(options: { manualReady?: boolean } = {}) {
  const launched: FakeTask[] = [];
  const launch = (task: EcsTaskLaunch): EcsTaskHandle => {
    let exit!: () => void;
    let ready!: () => void;
    const exited = new Promise<void>((resolve) => {
      exit = resolve;
    });
    const fake: FakeTask = {
      launch: task,
      stops: [],
      exited: false,
      crash: () => {
        fake.exited = true;
        exit();
      },
      markReady: () => ready(),
    };
    launched.push(fake);
    return {
      exited,
      ...(options.manualReady
        ? {
            ready: new Promise<void>((resolve) => {
              ready = resolve;
            }),
          }
        : {}),
      stop: async (graceMs) => {
        fake.stops.push(graceMs);
        fake.crash();
        await exited;
      },
    };
  };
  return { launched, launch, alive: () => launched.filter((task) => !task.exited) };
}

function service(launch: (task: EcsTaskLaunch) => EcsTaskHandle, maxDesiredCount?: number): LocalEcsService {
  return new LocalEcsService({
    spec,
    launch,
    agentUri: (taskArn) => `http://127.0.0.1:1/api/${taskArn.split('/').at(-1)}`,
    ...(maxDesiredCount === undefined ? {} : { maxDesiredCount }),
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LocalEcsService', () => {
  it('starts tasks up to the desired count, and stops the surplus on scale-in', async () => {
    // Prepare
    const tasks = fakeLauncher();
    const gpu = service(tasks.launch);
    // Act
    gpu.setDesiredCount(3);
    const afterScaleOut = { running: gpu.runningCount, launched: tasks.launched.length };
    gpu.setDesiredCount(1);
    // Assess
    expect(afterScaleOut).toEqual({ running: 3, launched: 3 });
    await vi.waitFor(() => expect(gpu.runningCount).toBe(1));
    expect(tasks.alive()).toHaveLength(1);
    expect(gpu.tasks().map((task) => task.taskArn)).toEqual([tasks.alive()[0]!.launch.taskArn]);
    await gpu.stop();
  });

  it('names its tasks arn:aws:ecs:<region>:<account>:task/<cluster>/<32 hex id> and gives them the template environment', async () => {
    // Prepare
    const tasks = fakeLauncher();
    const gpu = service(tasks.launch);
    // Act
    gpu.setDesiredCount(2);
    // Assess
    const [first, second] = tasks.launched.map((task) => task.launch);
    expect(first!.taskArn).toMatch(/^arn:aws:ecs:eu-west-1:123456789012:task\/workers\/[0-9a-f]{32}$/);
    expect(second!.taskArn).not.toBe(first!.taskArn);
    expect(first!.agentUri).toBe(`http://127.0.0.1:1/api/${first!.taskArn.split('/').at(-1)}`);
    expect(first!.env).toEqual(spec.environment);
    await gpu.stop();
  });

  it('keeps a protected task through scale-in until its protection is disabled', async () => {
    // Prepare
    const tasks = fakeLauncher();
    const gpu = service(tasks.launch);
    gpu.setDesiredCount(2);
    const [busy, idle] = tasks.launched;
    gpu.updateProtection(busy!.launch.taskArn, { protectionEnabled: true, expiresInMinutes: 15 });
    // Act
    gpu.setDesiredCount(0);
    await vi.waitFor(() => expect(idle!.exited).toBe(true));
    const whileProtected = { tasks: gpu.tasks(), stops: [...busy!.stops] };
    gpu.updateProtection(busy!.launch.taskArn, { protectionEnabled: false });
    // Assess
    expect(whileProtected).toEqual({
      tasks: [
        expect.objectContaining({
          taskArn: busy!.launch.taskArn,
          desiredStatus: 'RUNNING',
          protection: expect.objectContaining({ protectionEnabled: true }),
        }),
      ],
      stops: [],
    });
    await vi.waitFor(() => expect(busy!.exited).toBe(true));
    expect(gpu.runningCount).toBe(0);
  });

  it('stops a protected task above the desired count once its protection expires', async () => {
    // Prepare
    vi.useFakeTimers({ now: 0 });
    const tasks = fakeLauncher();
    const gpu = service(tasks.launch);
    gpu.setDesiredCount(1);
    const [task] = tasks.launched;
    const protection = gpu.updateProtection(task!.launch.taskArn, {
      protectionEnabled: true,
      expiresInMinutes: 1,
    });
    gpu.setDesiredCount(0);
    // Act
    await vi.advanceTimersByTimeAsync(59_999);
    const beforeExpiry = task!.exited;
    await vi.advanceTimersByTimeAsync(1);
    // Assess
    expect(protection).toEqual({
      taskArn: task!.launch.taskArn,
      protectionEnabled: true,
      expirationDate: new Date(60_000),
    });
    expect(beforeExpiry).toBe(false);
    expect(task!.exited).toBe(true);
    expect(gpu.runningCount).toBe(0);
  });

  it('replaces a task that exits on its own while fewer run than desired', async () => {
    // Prepare
    const tasks = fakeLauncher();
    const gpu = service(tasks.launch);
    gpu.setDesiredCount(1);
    // Act
    tasks.launched[0]!.crash();
    // Assess
    await vi.waitFor(() => expect(tasks.launched).toHaveLength(2));
    expect(tasks.alive().map((task) => task.launch.taskArn)).toEqual([tasks.launched[1]!.launch.taskArn]);
    expect(gpu.runningCount).toBe(1);
    await gpu.stop();
  });

  it('relaunches a task that keeps failing to start after a growing delay', async () => {
    // Prepare
    vi.useFakeTimers();
    const tasks = fakeLauncher({ manualReady: true });
    const gpu = service(tasks.launch);
    gpu.setDesiredCount(1);
    // Act: two tasks in a row exit before they are ready
    tasks.launched[0]!.crash();
    await vi.advanceTimersByTimeAsync(0);
    const afterFirstFailure = tasks.launched.length;
    tasks.launched[1]!.crash();
    await vi.advanceTimersByTimeAsync(999);
    const beforeDelay = tasks.launched.length;
    await vi.advanceTimersByTimeAsync(1);
    // Assess
    expect(afterFirstFailure).toBe(2);
    expect(beforeDelay).toBe(2);
    expect(tasks.launched).toHaveLength(3);
    await gpu.stop();
  });

  it('counts a started task as pending until it is ready', async () => {
    // Prepare
    const tasks = fakeLauncher({ manualReady: true });
    const gpu = service(tasks.launch);
    gpu.setDesiredCount(2);
    const before = { pending: gpu.pendingCount, running: gpu.runningCount };
    // Act
    tasks.launched[0]!.markReady();
    // Assess
    expect(before).toEqual({ pending: 2, running: 0 });
    await vi.waitFor(() =>
      expect({ pending: gpu.pendingCount, running: gpu.runningCount }).toEqual({ pending: 1, running: 1 }),
    );
    await gpu.stop();
  });

  it('stops pending tasks before ready ones on scale-in', async () => {
    // Prepare
    const tasks = fakeLauncher({ manualReady: true });
    const gpu = service(tasks.launch);
    gpu.setDesiredCount(2);
    tasks.launched[1]!.markReady();
    await vi.waitFor(() => expect(gpu.runningCount).toBe(1));
    // Act
    gpu.setDesiredCount(1);
    // Assess
    await vi.waitFor(() => expect(tasks.launched[0]!.exited).toBe(true));
    expect(tasks.launched[1]!.exited).toBe(false);
    await gpu.stop();
  });

  it('refuses a desired count that is not an integer from 0 to its maximum', () => {
    // Prepare
    const gpu = service(fakeLauncher().launch, 2);
    // Act
    const attempts = [3, -1, 1.5].map((count) => {
      try {
        gpu.setDesiredCount(count);
        return undefined;
      } catch (error) {
        return error;
      }
    });
    // Assess
    for (const error of attempts) {
      expect(error).toBeInstanceOf(InvalidDesiredCountError);
      expect(error).toMatchObject({ code: 'ECS_INVALID_DESIRED_COUNT', max: 2 });
    }
    expect(gpu.desiredCount).toBe(0);
  });

  it('protects for ECS’s 120 minutes by default and refuses a period outside 1 to 2,880 minutes', async () => {
    // Prepare
    vi.useFakeTimers({ now: 0 });
    const tasks = fakeLauncher();
    const gpu = service(tasks.launch);
    gpu.setDesiredCount(1);
    const { taskArn } = tasks.launched[0]!.launch;
    // Act
    const protection = gpu.updateProtection(taskArn, { protectionEnabled: true });
    const tooLong = () => gpu.updateProtection(taskArn, { protectionEnabled: true, expiresInMinutes: 2881 });
    const unknown = () => gpu.protection(`${taskArn.slice(0, -1)}x`);
    // Assess
    expect(protection.expirationDate).toEqual(new Date(120 * 60_000));
    expect(tooLong).toThrow(InvalidTaskProtectionError);
    expect(unknown).toThrow(UnknownTaskError);
    await gpu.stop();
  });

  it('stops every task on stop, protected ones too, and takes no desired count after', async () => {
    // Prepare
    const tasks = fakeLauncher();
    const gpu = service(tasks.launch);
    gpu.setDesiredCount(2);
    gpu.updateProtection(tasks.launched[0]!.launch.taskArn, { protectionEnabled: true });
    // Act
    await gpu.stop();
    // Assess
    expect(tasks.alive()).toEqual([]);
    expect(tasks.launched.map((task) => task.stops)).toEqual([[30_000], [30_000]]);
    expect(() => gpu.setDesiredCount(1)).toThrow(LocalEcsServiceStoppedError);
  });
});
