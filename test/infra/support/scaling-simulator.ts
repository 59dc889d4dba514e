import type { Template } from 'aws-cdk-lib/assertions';
import { evaluateMetricMath, type MathValue, type Series } from './metric-math.ts';

/**
 * Runs the scaling definitions of a synthesized template minute by minute: its CloudWatch alarms
 * (metric math, M out of N, treat-missing-data, the evaluation range) and the Application Auto
 * Scaling step policies they trigger (step intervals, ExactCapacity/ChangeInCapacity, cooldowns,
 * min/max). What it models, from the CloudWatch and Application Auto Scaling guides:
 * - an alarm retrieves more datapoints than its evaluation periods (the evaluation range; the guide's
 *   example retrieves 5 for 3 periods, so here N + 2) and evaluates the most recent N that exist,
 *   filling with treat-missing-data only when fewer than N exist; ALARM when ≥ M breach;
 * - Auto Scaling actions repeat every period the alarm stays in ALARM;
 * - a step applies to `value - threshold`, bounds inclusive on the side away from the threshold
 *   ([lower, upper) above it, (lower, upper] below it), the value aggregated over the evaluated
 *   datapoints with the policy's MetricAggregationType;
 * - a scale-in is blocked for the policy's cooldown after that policy scaled in; a scale-out always
 *   applies and ends every scale-in cooldown; capacity is clamped to the target's min/max.
 */

/** The value of a metric for one minute, as CloudWatch knows it at `now`; undefined: no datapoint (yet). */
export type MetricSource = (metricName: string, minute: number, now: number) => number | undefined;

interface AlarmQuery {
  readonly id: string;
  readonly expression?: string;
  readonly metricName?: string;
  readonly returnData: boolean;
}

interface StepAdjustment {
  readonly lower: number;
  readonly upper: number;
  readonly adjustment: number;
}

export interface ScalingAlarm {
  readonly logicalId: string;
  readonly queries: readonly AlarmQuery[];
  readonly threshold: number;
  readonly comparison: string;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: string;
  readonly policyIds: readonly string[];
}

export interface ScalingPolicy {
  readonly logicalId: string;
  readonly adjustmentType: string;
  readonly cooldownMinutes: number;
  readonly aggregation: string;
  readonly steps: readonly StepAdjustment[];
}

export interface ScalingModel {
  readonly alarms: readonly ScalingAlarm[];
  readonly policies: ReadonlyMap<string, ScalingPolicy>;
  readonly minCapacity: number;
  readonly maxCapacity: number;
}

type Resource = { readonly Type: string; readonly Properties: Record<string, unknown> };

/** The alarms that trigger step scaling policies, those policies, and their scalable target. */
export function scalingModelOf(template: Template): ScalingModel {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const policies = new Map<string, ScalingPolicy>();
  const targets = new Set<string>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::ApplicationAutoScaling::ScalingPolicy') continue;
    const config = resource.Properties.StepScalingPolicyConfiguration as {
      AdjustmentType: string;
      Cooldown?: number;
      MetricAggregationType?: string;
      StepAdjustments: {
        MetricIntervalLowerBound?: number;
        MetricIntervalUpperBound?: number;
        ScalingAdjustment: number;
      }[];
    };
    targets.add((resource.Properties.ScalingTargetId as { Ref: string }).Ref);
    policies.set(logicalId, {
      logicalId,
      adjustmentType: config.AdjustmentType,
      cooldownMinutes: (config.Cooldown ?? 0) / 60,
      aggregation: config.MetricAggregationType ?? 'Average',
      steps: config.StepAdjustments.map((step) => ({
        lower: step.MetricIntervalLowerBound ?? Number.NEGATIVE_INFINITY,
        upper: step.MetricIntervalUpperBound ?? Number.POSITIVE_INFINITY,
        adjustment: step.ScalingAdjustment,
      })),
    });
  }
  if (targets.size !== 1) throw new Error(`expected one scalable target, found ${targets.size}`);
  const target = resources[[...targets][0] as string]?.Properties as {
    MinCapacity: number;
    MaxCapacity: number;
  };

  const alarms: ScalingAlarm[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = resource.Properties as {
      AlarmActions?: { Ref?: string }[];
      Metrics?: {
        Id: string;
        Expression?: string;
        ReturnData?: boolean;
        MetricStat?: { Metric: { MetricName: string }; Period: number };
      }[];
      Threshold: number;
      ComparisonOperator: string;
      EvaluationPeriods: number;
      DatapointsToAlarm?: number;
      TreatMissingData?: string;
    };
    const policyIds = (p.AlarmActions ?? []).flatMap((a) => (a.Ref && policies.has(a.Ref) ? [a.Ref] : []));
    if (policyIds.length === 0) continue;
    if (!p.Metrics) throw new Error(`${logicalId}: only metric-math alarms are simulated`);
    for (const query of p.Metrics) {
      if (query.MetricStat && query.MetricStat.Period !== 60)
        throw new Error(`${logicalId}: only 1-minute periods`);
    }
    alarms.push({
      logicalId,
      queries: p.Metrics.map((m) => ({
        id: m.Id,
        ...(m.Expression === undefined ? {} : { expression: m.Expression }),
        ...(m.MetricStat ? { metricName: m.MetricStat.Metric.MetricName } : {}),
        returnData: m.ReturnData ?? true,
      })),
      threshold: p.Threshold,
      comparison: p.ComparisonOperator,
      evaluationPeriods: p.EvaluationPeriods,
      datapointsToAlarm: p.DatapointsToAlarm ?? p.EvaluationPeriods,
      treatMissingData: p.TreatMissingData ?? 'missing',
      policyIds,
    });
  }
  return { alarms, policies, minCapacity: target.MinCapacity, maxCapacity: target.MaxCapacity };
}

const BREACHES: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
  LessThanThreshold: (v, t) => v < t,
};

/** Extra datapoints CloudWatch retrieves beyond the evaluation periods (the evaluation range). */
const EVALUATION_RANGE_EXTRA = 2;

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface ScalingEvent {
  readonly minute: number;
  readonly by: string;
  readonly from: number;
  readonly to: number;
}

/** The desired count of one service under the template's alarms and policies (and anyone else's UpdateService). */
export class ScalingSimulator {
  readonly states = new Map<string, AlarmState>();
  readonly events: ScalingEvent[] = [];
  private desired: number;
  private readonly maxDuring = new Map<number, number>();
  private readonly scaleInBlockedUntil = new Map<string, number>();
  private minute = Number.NEGATIVE_INFINITY;

  constructor(
    readonly model: ScalingModel,
    initialDesired: number,
  ) {
    this.desired = initialDesired;
    for (const alarm of model.alarms) this.states.set(alarm.logicalId, 'INSUFFICIENT_DATA');
  }

  get desiredCount(): number {
    return this.desired;
  }

  /** Starts minute `minute`: from here on, changes are recorded against it. */
  beginMinute(minute: number): void {
    this.minute = minute;
    this.maxDuring.set(minute, this.desired);
  }

  /** The highest desired count during `minute` (what a Maximum statistic of it reports). */
  desiredDuring(minute: number): number | undefined {
    return this.maxDuring.get(minute);
  }

  /** ECS UpdateService(desiredCount), e.g. from the dispatcher. */
  setDesiredCount(count: number, by: string): void {
    if (count === this.desired) return;
    this.events.push({ minute: this.minute, by, from: this.desired, to: count });
    this.desired = count;
    this.maxDuring.set(this.minute, Math.max(this.maxDuring.get(this.minute) ?? count, count));
  }

  /** Evaluates every alarm at the end of the current minute and runs the actions of those in ALARM. */
  evaluateAlarms(source: MetricSource): void {
    const now = this.minute + 1;
    for (const alarm of this.model.alarms) {
      const { state, values } = this.evaluate(alarm, source, now);
      this.states.set(alarm.logicalId, state);
      if (state !== 'ALARM') continue;
      for (const policyId of alarm.policyIds) {
        const policy = this.model.policies.get(policyId) as ScalingPolicy;
        this.execute(policy, alarm, values);
      }
    }
  }

  private evaluate(alarm: ScalingAlarm, source: MetricSource, now: number) {
    const range = alarm.evaluationPeriods + EVALUATION_RANGE_EXTRA;
    const minutes = Array.from({ length: range }, (_, i) => now - range + i);
    const results = new Map<string, MathValue>();
    const lookup = (id: string): MathValue => {
      const cached = results.get(id);
      if (cached !== undefined) return cached;
      const query = alarm.queries.find((q) => q.id === id);
      if (!query) throw new Error(`${alarm.logicalId}: no query ${id}`);
      let value: MathValue;
      if (query.expression !== undefined) {
        value = evaluateMetricMath(query.expression, lookup);
      } else {
        const series = new Map<number, number>();
        for (const minute of minutes) {
          const v = source(query.metricName as string, minute, now);
          if (v !== undefined) series.set(minute, v);
        }
        value = series;
      }
      results.set(id, value);
      return value;
    };
    const returned = alarm.queries.filter((q) => q.returnData);
    if (returned.length !== 1) throw new Error(`${alarm.logicalId}: expected one query with ReturnData`);
    const result = lookup((returned[0] as AlarmQuery).id);
    if (typeof result === 'number') throw new Error(`${alarm.logicalId}: the alarm's expression is a scalar`);
    const existing = minutes
      .filter((m) => (result as Series).has(m))
      .map((m) => (result as Series).get(m) as number);
    const breaches = BREACHES[alarm.comparison];
    if (!breaches) throw new Error(`${alarm.logicalId}: ${alarm.comparison} is not simulated`);
    const n = alarm.evaluationPeriods;
    const values = existing.slice(-n);
    let breaching = values.filter((v) => breaches(v, alarm.threshold)).length;
    const filled = n - values.length;
    if (filled > 0) {
      if (alarm.treatMissingData === 'breaching') breaching += filled;
      else if (alarm.treatMissingData !== 'notBreaching') {
        throw new Error(`${alarm.logicalId}: treatMissingData ${alarm.treatMissingData} is not simulated`);
      }
    }
    const state: AlarmState = breaching >= alarm.datapointsToAlarm ? 'ALARM' : 'OK';
    return { state, values };
  }

  private execute(policy: ScalingPolicy, alarm: ScalingAlarm, values: readonly number[]): void {
    // No real datapoint (all filled in as breaching): the breach is taken to be at the threshold.
    const value = values.length === 0 ? alarm.threshold : aggregate(policy.aggregation, values);
    const delta = value - alarm.threshold;
    const above = alarm.comparison.startsWith('Greater');
    const step = policy.steps.find((s) =>
      above ? s.lower <= delta && delta < s.upper : s.lower < delta && delta <= s.upper,
    );
    if (!step) return;
    let target: number;
    if (policy.adjustmentType === 'ExactCapacity') target = step.adjustment;
    else if (policy.adjustmentType === 'ChangeInCapacity') target = this.desired + step.adjustment;
    else throw new Error(`${policy.logicalId}: ${policy.adjustmentType} is not simulated`);
    target = Math.min(this.model.maxCapacity, Math.max(this.model.minCapacity, target));
    if (target > this.desired) {
      this.scaleInBlockedUntil.clear();
      this.setDesiredCount(target, policy.logicalId);
    } else if (target < this.desired) {
      if (this.minute < (this.scaleInBlockedUntil.get(policy.logicalId) ?? Number.NEGATIVE_INFINITY)) return;
      this.setDesiredCount(target, policy.logicalId);
      this.scaleInBlockedUntil.set(policy.logicalId, this.minute + policy.cooldownMinutes);
    }
  }
}

function aggregate(kind: string, values: readonly number[]): number {
  if (kind === 'Maximum') return Math.max(...values);
  if (kind === 'Minimum') return Math.min(...values);
  if (kind === 'Average') return values.reduce((a, b) => a + b, 0) / values.length;
  throw new Error(`MetricAggregationType ${kind} is not simulated`);
}
