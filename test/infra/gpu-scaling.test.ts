import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EcsServiceScaler } from '../../functions/inference-dispatcher/scaler.ts';
import { GpuInferenceStack, type GpuInferenceStackProps } from '../../infra/stacks/gpu-inference-stack.ts';
import { type MetricSource, ScalingSimulator, scalingModelOf } from './support/scaling-simulator.ts';
import { testContext } from './support.ts';

/**
 * The GPU service's desired count over simulated minutes, driven by the real alarms and step
 * policies of the synthesized GpuInferenceStack and by the real dispatcher scaler (EcsServiceScaler
 * over a stub ECS client that reads and writes the simulated desired count).
 */

const SCALE_IN_AFTER_MINUTES = 5; // GpuWorkerService's default
const TASK_STARTUP_MINUTES = 8; // GPU instance launch + image pull + model load

function templateOf(props: GpuInferenceStackProps = {}): Template {
  return Template.fromStack(new GpuInferenceStack(new App({ context: testContext }), 'GpuInference', props));
}

const defaultTemplate = templateOf();

interface WorldOptions {
  /** When CloudWatch has the SQS datapoint of `minute`; undefined: never (inactive queue). */
  readonly sqsAvailableAt: (minute: number) => number | undefined;
  /** Minutes after a minute ends before its Container Insights datapoint is there. @default 1 */
  readonly insightsDelay?: number;
  /** Whether Container Insights reports DesiredTaskCount 0 (or nothing) for a service at 0. @default true */
  readonly insightsReportsZero?: boolean;
  readonly initialDesired?: number;
  readonly initialVisible?: number;
}

/** gpu-work, one GPU task's life cycle, the dispatcher and the metrics CloudWatch sees of them. */
class World {
  readonly sim: ScalingSimulator;
  readonly scaler: EcsServiceScaler;
  /** Desired count at the end of each minute. */
  readonly desired = new Map<number, number>();
  visible: number;
  inflight = 0;
  deletedAt: number | undefined;
  private readonly visibleMax = new Map<number, number>();
  private readonly inflightMax = new Map<number, number>();
  private taskSince: number | undefined;
  private eventsSeen = 0;
  private received: { count: number; deleteAt: number } | undefined;
  private now = 0;

  constructor(
    template: Template,
    private readonly options: WorldOptions,
  ) {
    this.sim = new ScalingSimulator(scalingModelOf(template), options.initialDesired ?? 0);
    this.visible = options.initialVisible ?? 0;
    const sim = this.sim;
    const client = {
      send: async (command: unknown) => {
        if (command instanceof DescribeServicesCommand)
          return { services: [{ desiredCount: sim.desiredCount }] };
        if (command instanceof UpdateServiceCommand) {
          sim.setDesiredCount(command.input.desiredCount as number, 'dispatcher');
          return {};
        }
        throw new Error(`unexpected ECS command ${String(command)}`);
      },
    } as unknown as ECSClient;
    this.scaler = new EcsServiceScaler(client, {
      cluster: 'gpu',
      service: 'workers',
      now: () => this.now * 60_000,
    });
  }

  readonly metrics: MetricSource = (metricName, minute, now) => {
    if (metricName === 'DesiredTaskCount') {
      if (minute + 1 + (this.options.insightsDelay ?? 1) > now) return undefined;
      const desired = this.sim.desiredDuring(minute);
      if (desired === undefined || (desired === 0 && this.options.insightsReportsZero === false))
        return undefined;
      return desired;
    }
    const availableAt = this.options.sqsAvailableAt(minute);
    if (availableAt === undefined || availableAt > now) return undefined;
    if (metricName === 'ApproximateNumberOfMessagesVisible') return this.visibleMax.get(minute);
    if (metricName === 'ApproximateNumberOfMessagesNotVisible') return this.inflightMax.get(minute);
    throw new Error(`no model for metric ${metricName}`);
  };

  /** A client's message went through the dispatcher: one gpu-work message, and scale from zero. */
  async dispatch(messages = 1): Promise<void> {
    this.visible += messages;
    this.track();
    await this.scaler.ensureRunning();
  }

  /** Runs minutes `from`..`to`: `script` first (sends, dispatcher), then the task, then the alarms. */
  async run(from: number, to: number, script: (minute: number) => Promise<void> = async () => {}) {
    for (let minute = from; minute <= to; minute++) {
      this.now = minute;
      this.sim.beginMinute(minute);
      this.visibleMax.set(minute, this.visible);
      this.inflightMax.set(minute, this.inflight);
      await script(minute);
      this.runTask(minute);
      this.sim.evaluateAlarms(this.metrics);
      this.desired.set(minute, this.sim.desiredCount);
    }
  }

  scaleIns(): number[] {
    return this.sim.events.filter((e) => e.to < e.from && e.by !== 'dispatcher').map((e) => e.minute);
  }

  /**
   * One task: starts once the service wants one, is ready `TASK_STARTUP_MINUTES` later, and is
   * stopped whenever the desired count went to 0, however briefly.
   */
  private runTask(minute: number): void {
    const events = this.sim.events.slice(this.eventsSeen);
    this.eventsSeen = this.sim.events.length;
    if (events.some((e) => e.to === 0)) this.stopTask();
    if (this.sim.desiredCount === 0) {
      this.track();
      return;
    }
    this.taskSince ??= minute;
    if (minute - this.taskSince < TASK_STARTUP_MINUTES) return;
    if (this.received && this.received.deleteAt <= minute) {
      this.inflight -= this.received.count;
      this.received = undefined;
      this.deletedAt = minute;
    }
    if (!this.received && this.visible > 0) {
      this.received = { count: this.visible, deleteAt: minute + 1 };
      this.inflight += this.visible;
      this.visible = 0;
    }
    this.track();
  }

  private stopTask(): void {
    this.taskSince = undefined;
    if (this.received) {
      // Stopped mid-work: the message becomes visible again after its visibility timeout; here at once.
      this.visible += this.received.count;
      this.inflight -= this.received.count;
      this.received = undefined;
    }
  }

  private track(): void {
    const minute = this.now;
    this.visibleMax.set(minute, Math.max(this.visibleMax.get(minute) ?? 0, this.visible));
    this.inflightMax.set(minute, Math.max(this.inflightMax.get(minute) ?? 0, this.inflight));
  }

  /** The last minute in `from..to` that SQS saw work (visible or in flight). */
  lastBusyMinute(from: number, to: number): number | undefined {
    let last: number | undefined;
    for (let m = from; m <= to; m++) {
      if ((this.visibleMax.get(m) ?? 0) + (this.inflightMax.get(m) ?? 0) > 0) last = m;
    }
    return last;
  }
}

function desiredBetween(world: World, from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => world.desired.get(from + i) as number);
}

describe('GPU service scaling (alarms and step policies from the synthesized GpuInferenceStack)', () => {
  describe.each([
    { insightsReportsZero: true, label: 'Container Insights reports 0 tasks' },
    { insightsReportsZero: false, label: 'Container Insights reports nothing at 0 tasks' },
  ])('one message after 2 h idle, SQS metrics 10 minutes late ($label)', ({ insightsReportsZero }) => {
    // Prepare: an inactive queue publishes nothing; its first datapoints come 10 minutes late, then
    // with the usual 1 minute delay.
    const sqsAvailableAt = (minute: number) => (minute < 0 ? undefined : Math.max(minute + 2, 10));
    let world: World;
    const outcomes: string[] = [];
    beforeAll(async () => {
      world = new World(defaultTemplate, { sqsAvailableAt, insightsReportsZero });
      // Act
      await world.run(-120, 60, async (minute) => {
        if (minute === 0) {
          await world.dispatch(1);
          outcomes.push(world.sim.desiredCount > 0 ? 'raised' : 'not raised');
        }
      });
    });

    it('keeps the service at 0 while idle, and the dispatcher raises it to 1 at once', async () => {
      // Assess
      expect(new Set(desiredBetween(world, -120, -1))).toEqual(new Set([0]));
      expect(outcomes).toEqual(['raised']);
    });

    it('keeps at least one task from the message until the worker deleted it', async () => {
      // Assess
      expect(world.deletedAt).toBe(TASK_STARTUP_MINUTES + 1);
      expect(Math.min(...desiredBetween(world, 0, world.deletedAt as number))).toBeGreaterThanOrEqual(1);
    });

    it('returns to 0 only once gpu-work was observed empty for scaleInAfterMinutes, and stays there', async () => {
      // Assess
      const lastBusy = world.lastBusyMinute(0, 60) as number;
      const observedEmptyAt = sqsAvailableAt(lastBusy + SCALE_IN_AFTER_MINUTES) as number;
      const [scaleIn, ...more] = world.scaleIns();
      expect(more).toEqual([]);
      // Alarms evaluate at the end of a minute, seeing what arrived by then.
      expect((scaleIn as number) + 1).toBeGreaterThanOrEqual(observedEmptyAt);
      expect((scaleIn as number) + 1).toBeLessThanOrEqual(observedEmptyAt + 2);
      expect(new Set(desiredBetween(world, scaleIn as number, 60))).toEqual(new Set([0]));
    });
  });

  it('is not scaled back in when the dispatcher raises it right after a scale-in while metrics lag', async () => {
    // Prepare: a running service with nothing to do; SQS datapoints arrive 2 minutes after their
    // minute, Container Insights' after 1: for a while after the scale-in, the alarm still sees the
    // idle minutes before it.
    const sqsAvailableAt = (minute: number) => minute + 3;
    const world = new World(defaultTemplate, { sqsAvailableAt, initialDesired: 1 });
    let raisedAt: number | undefined;
    // Act: the first message comes the minute after the idle scale-in.
    await world.run(-60, 60, async (minute) => {
      const [scaleIn] = world.scaleIns();
      if (scaleIn !== undefined && raisedAt === undefined && minute === scaleIn + 1) {
        await world.dispatch(1);
        raisedAt = minute;
      }
    });
    // Assess
    expect(raisedAt).toBeDefined();
    const raised = raisedAt as number;
    expect(world.deletedAt).toBe(raised + TASK_STARTUP_MINUTES + 1);
    expect(Math.min(...desiredBetween(world, raised, world.deletedAt as number))).toBeGreaterThanOrEqual(1);
    const scaleIns = world.scaleIns();
    expect(scaleIns).toHaveLength(2);
    expect((scaleIns[1] as number) + 1).toBeGreaterThanOrEqual(
      sqsAvailableAt((world.lastBusyMinute(raised, 60) as number) + SCALE_IN_AFTER_MINUTES),
    );
  });

  it('runs one task per 100 messages of steady backlog, up to maxInstances: 250 messages → 3 tasks', async () => {
    // Prepare: producers keep 250 messages waiting; no task is ready within the window.
    const world = new World(templateOf({ maxInstances: 3 }), {
      sqsAvailableAt: (minute) => minute + 2,
      initialVisible: 250,
    });
    // Act
    await world.run(-1, 6, async (minute) => {
      if (minute === 0) await world.dispatch(0);
    });
    // Assess
    expect(world.desired.get(0)).toBe(3);
    expect(new Set(desiredBetween(world, 0, 6))).toEqual(new Set([3]));
  });

  it('caps the backlog scale-out at maxInstances', async () => {
    // Prepare
    const world = new World(defaultTemplate, { sqsAvailableAt: (minute) => minute + 2, initialVisible: 250 });
    // Act
    await world.run(-3, 6);
    // Assess
    expect(Math.max(...desiredBetween(world, -3, 6))).toBe(2);
  });
});
