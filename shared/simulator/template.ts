/**
 * The simulator's settings read from the synthesized templates (`cdk.out`): the batch writer (the
 * function whose environment has `TABLE_ROUTES`), its SQS event source mapping and queue, the table
 * its routes name, and the GPU tier (task definition, scalable target, step scaling, launch
 * template, Auto Scaling group). Values a template leaves out keep `defaultPipelineSettings`'.
 */

import { TemplateSettingsError } from './errors.ts';
import { defaultPipelineSettings, type GpuSettings, type PipelineSettings } from './settings.ts';

/** A stack's template, as `readCloudAssembly` reads it (only what is used here). */
export interface TemplateStack {
  readonly name: string;
  readonly template: {
    readonly Resources: Record<
      string,
      { readonly Type: string; readonly Properties?: Record<string, unknown> }
    >;
  };
}

type Props = Record<string, unknown>;

/**
 * @throws TemplateSettingsError when no stack holds the batch writer and its event source, or a
 * value the simulator needs is not a literal number.
 */
export function settingsFromTemplates(stacks: readonly TemplateStack[]): PipelineSettings {
  for (const stack of stacks) {
    const resources = Object.entries(stack.template.Resources);
    const fn = resources.find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && envOf(r.Properties).TABLE_ROUTES,
    );
    if (!fn) continue;
    const [fnId, { Properties: f = {} }] = fn;
    const esm = resources.find(
      ([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping' && refOf(r.Properties?.FunctionName) === fnId,
    );
    if (!esm)
      throw new TemplateSettingsError(
        `${stack.name}/${fnId}`,
        'the batch writer has no event source mapping',
      );
    const where = (id: string, key: string) => `${stack.name}/${id}.${key}`;
    const [esmId, { Properties: e = {} }] = esm;
    const num = (id: string, props: Props, key: string, fallback?: number): number | undefined => {
      const value = path(props, key);
      if (value === undefined) return fallback;
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n))
        throw new TemplateSettingsError(where(id, key), `expected a number, got ${JSON.stringify(value)}`);
      return n;
    };
    const d = defaultPipelineSettings;
    const queueId = getAttOf(e.EventSourceArn);
    const q = (queueId && (stack.template.Resources[queueId]?.Properties ?? {})) || {};
    const env = envOf(f);
    const tableId = refsIn(env.TABLE_ROUTES).find(
      (id) => stack.template.Resources[id]?.Type === 'AWS::DynamoDB::Table',
    );
    const t = (tableId && stack.template.Resources[tableId]?.Properties) || {};
    const envNum = (name: string, fallback: number) => num(fnId, env, name, fallback)!;
    const maximumConcurrency = num(esmId, e, 'ScalingConfig.MaximumConcurrency');
    const minimumPollers = num(esmId, e, 'ProvisionedPollerConfig.MinimumPollers');
    const maximumPollers = num(esmId, e, 'ProvisionedPollerConfig.MaximumPollers');
    const reserved = num(fnId, f, 'ReservedConcurrentExecutions');
    const billingMode = t.BillingMode === 'PROVISIONED' ? 'PROVISIONED' : 'PAY_PER_REQUEST';
    const maxWrite = num(tableId ?? '?', t, 'OnDemandThroughput.MaxWriteRequestUnits');
    const provisionedWrite = num(tableId ?? '?', t, 'ProvisionedThroughput.WriteCapacityUnits');
    const gpu = gpuSettings(stacks);
    return {
      eventSource: {
        batchSize: num(esmId, e, 'BatchSize', 10)!,
        maxBatchingWindowSeconds: num(esmId, e, 'MaximumBatchingWindowInSeconds', 0)!,
        ...(maximumConcurrency === undefined ? {} : { maximumConcurrency }),
        ...(minimumPollers === undefined && maximumPollers === undefined
          ? {}
          : { provisionedPollers: { minimum: minimumPollers ?? 2, maximum: maximumPollers ?? 200 } }),
      },
      lambda: {
        memoryMiB: num(fnId, f, 'MemorySize', 128)!,
        timeoutSeconds: num(fnId, f, 'Timeout', 3)!,
        architecture: Array.isArray(f.Architectures) && f.Architectures[0] === 'arm64' ? 'arm64' : 'x86_64',
        ...(reserved === undefined ? {} : { reservedConcurrency: reserved }),
        accountConcurrency: d.lambda.accountConcurrency,
        writeConcurrency: envNum('MAX_CONCURRENCY', d.lambda.writeConcurrency),
        deadlineMarginMs: envNum('DEADLINE_MARGIN_MS', d.lambda.deadlineMarginMs),
      },
      queue: {
        visibilityTimeoutSeconds: num(queueId ?? '?', q, 'VisibilityTimeout', 30)!,
        maxReceiveCount: num(queueId ?? '?', q, 'RedrivePolicy.maxReceiveCount', Number.POSITIVE_INFINITY)!,
      },
      table: {
        billingMode,
        warmWriteUnitsPerSec: num(
          tableId ?? '?',
          t,
          'WarmThroughput.WriteUnitsPerSecond',
          d.table.warmWriteUnitsPerSec,
        )!,
        ...(maxWrite === undefined ? {} : { maxWriteRequestUnits: maxWrite }),
        ...(provisionedWrite === undefined ? {} : { provisionedWriteUnits: provisionedWrite }),
      },
      ...(gpu ? { gpu } : {}),
    };
  }
  throw new TemplateSettingsError(
    stacks.map((s) => s.name).join(', ') || 'the cloud assembly',
    'no stack holds the batch writer (a function with TABLE_ROUTES in its environment)',
  );
}

function gpuSettings(stacks: readonly TemplateStack[]): GpuSettings | undefined {
  for (const stack of stacks) {
    const all = Object.values(stack.template.Resources);
    const of = (type: string) => all.filter((r) => r.Type === type).map((r) => r.Properties ?? {});
    const task = of('AWS::ECS::TaskDefinition').find((p) => gpusOf(p) > 0);
    if (!task) continue;
    const target = of('AWS::ApplicationAutoScaling::ScalableTarget')[0] ?? {};
    const steps = of('AWS::ApplicationAutoScaling::ScalingPolicy')
      .map((p) => path(p, 'StepScalingPolicyConfiguration') as Props | undefined)
      .filter((c) => c?.MetricAggregationType === 'Maximum')
      .flatMap((c) => (c?.StepAdjustments as Props[] | undefined) ?? [])
      .map((s) => ({
        lowerBound: Number(s.MetricIntervalLowerBound ?? 0),
        tasks: Number(s.ScalingAdjustment),
      }))
      .sort((a, b) => a.lowerBound - b.lowerBound);
    const launch = of('AWS::EC2::LaunchTemplate')[0];
    const asg = of('AWS::AutoScaling::AutoScalingGroup')[0] ?? {};
    const env = Object.fromEntries(
      (
        (path(task, 'ContainerDefinitions.0.Environment') as
          | { Name: string; Value: unknown }[]
          | undefined) ?? []
      ).map((v) => [v.Name, v.Value]),
    );
    const maxTasks = Number(target.MaxCapacity ?? 1);
    return {
      instanceType: String(path(launch ?? {}, 'LaunchTemplateData.InstanceType') ?? 'g5.xlarge'),
      maxInstances: Number(asg.MaxSize ?? maxTasks),
      tasksPerInstance: Math.max(1, Math.floor(1 / gpusOf(task))),
      maxTasks,
      steps: steps.length > 0 ? steps : [{ lowerBound: 1, tasks: maxTasks }],
      maxBatch: Number(env.MAX_BATCH ?? 32),
    };
  }
  return undefined;
}

function gpusOf(task: Props): number {
  const containers = (task.ContainerDefinitions as Props[] | undefined) ?? [];
  let gpus = 0;
  for (const c of containers)
    for (const r of (c.ResourceRequirements as { Type: string; Value: string }[] | undefined) ?? [])
      if (r.Type === 'GPU') gpus += Number(r.Value);
  return gpus;
}

function envOf(props: Props | undefined): Props {
  return (path(props ?? {}, 'Environment.Variables') as Props | undefined) ?? {};
}

function path(props: Props, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], props);
}

function refOf(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

function getAttOf(value: unknown): string | undefined {
  const att = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  return Array.isArray(att) && typeof att[0] === 'string' ? att[0] : undefined;
}

/** Every `Ref` target inside an intrinsic expression. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== 'object') return [];
  const ref = refOf(value);
  return ref ? [ref] : Object.values(value).flatMap(refsIn);
}
