/**
 * The synthesized app on fresh in-memory emulators, as the demos use it: the local cloud with every
 * function's EMF metrics summed per function, its outputs written where the CLI and other tools
 * look, and the IAM record summed up in one line at the end.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EmbeddedAws, startEmbeddedAws } from '../../aws/embedded.ts';
import { type CloudAssembly, readCloudAssembly, synthesize } from '../../cloud/assembly.ts';
import { formatIamReport } from '../../cloud/iam/index.ts';
import { type LocalCloud, stackFileOf, startLocalCloud, writeOutputsFile } from '../../cloud/local-cloud.ts';
import type { SqsEventSourcePoller } from '../../lambda/poller.ts';
import { writeStackFile } from '../../resources/stack-file.ts';
import { EmfTotals } from './emf.ts';

export interface DemoCloudOptions {
  readonly projectRoot: string;
  /** Stacks to deploy, with the stacks they depend on (GpuInference reads WritePath's outputs). @default every stack */
  readonly stacks?: readonly string[];
  /** Deploy this cloud assembly as it is instead of synthesizing (`cdk synth` unless cdk.out is fresh). */
  readonly assemblyDir?: string;
  /** Where `outputs.json`, `stack.json` and `iam-report.txt` go. @default '.local' */
  readonly localDir?: string;
  readonly log: (line: string) => void;
  /** Gets every function and task log line that is not an EMF document. @default dropped */
  readonly onFunctionLog?: (line: string, functionName: string) => void;
}

/** The running demo cloud. */
export interface DemoCloud extends AsyncDisposable {
  readonly cloud: LocalCloud;
  /** The EMF metric totals of one function (or ECS service) so far. */
  metricsOf(functionName: string): EmfTotals;
  /** The function the queue at `queueUrl` feeds, and the event source's poller; throws when none does. */
  consumerOf(queueUrl: string): { readonly functionName: string; readonly poller: SqsEventSourcePoller };
  /** Writes the full IAM report beside the outputs and resolves with its one-line summary. */
  iamSummary(): Promise<{ readonly line: string; readonly denials: number }>;
  /** Stops the cloud and the emulators (they forget everything). */
  stop(): Promise<void>;
}

const LOCALSTACK_ACCOUNT = '000000000000';

/**
 * Starts the emulators (in memory) while the app is synthesized, "deploys" it with `startLocalCloud`
 * and writes `<localDir>/outputs.json` (and `stack.json` when the WritePath stack is deployed).
 */
export async function startDemoCloud(options: DemoCloudOptions): Promise<DemoCloud> {
  const { log } = options;
  const localDir = options.localDir ?? '.local';
  const [started, synthesized] = await Promise.allSettled([startEmbeddedAws({ log }), loadAssembly(options)]);
  if (started.status === 'rejected') throw started.reason;
  const aws: EmbeddedAws = started.value;
  if (synthesized.status === 'rejected') {
    await aws.stop();
    throw synthesized.reason;
  }
  const metrics = new Map<string, EmfTotals>();
  const metricsOf = (functionName: string) => {
    let totals = metrics.get(functionName);
    if (totals === undefined) {
      totals = new EmfTotals();
      metrics.set(functionName, totals);
    }
    return totals;
  };
  const cloud = await startLocalCloud({
    assembly: synthesized.value,
    endpoints: aws.endpoints,
    // LocalStack (AWS_ENDPOINT_URL) names its own account in queue URLs and ARNs.
    ...(aws.started ? {} : { account: LOCALSTACK_ACCOUNT }),
    ...(options.stacks ? { stacks: withDependencies(synthesized.value, options.stacks) } : {}),
    log,
    onFunctionLog: (line, { functionName }) => {
      if (!metricsOf(functionName).add(line)) options.onFunctionLog?.(line, functionName);
    },
  }).catch(async (error: unknown) => {
    await aws.stop();
    throw error;
  });
  await writeOutputsFile(cloud.deployment.outputs, join(localDir, 'outputs.json'));
  if (cloud.deployment.outputs.WritePath)
    await writeStackFile(stackFileOf(cloud), join(localDir, 'stack.json'));
  log(`outputs ${join(localDir, 'outputs.json')}`);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= cloud.stop().finally(() => aws.stop());
    return stopped;
  };
  return {
    cloud,
    metricsOf,
    consumerOf(queueUrl) {
      const { deployment } = cloud;
      const queue = deployment.queues.find((q) => q.url === queueUrl);
      const mapping = deployment.eventSourceMappings.find((m) => m.queueArn === queue?.arn);
      const poller = mapping && cloud.pollers.get(mapping.logicalId);
      if (!mapping || !poller) throw new RangeError(`no function consumes ${queueUrl}`);
      return { functionName: mapping.functionName, poller };
    },
    async iamSummary() {
      const reportFile = join(localDir, 'iam-report.txt');
      await mkdir(localDir, { recursive: true });
      await writeFile(reportFile, formatIamReport(cloud.iam));
      const decisions = cloud.iam.decisions();
      const allowed = decisions.reduce((n, d) => n + d.allowed.reduce((m, c) => m + c.count, 0), 0);
      const denied = cloud.iam.denials().reduce((n, d) => n + d.count, 0);
      const unused = cloud.iam.unusedGrants().reduce((n, u) => n + u.grants.length, 0);
      return {
        line: `IAM: ${allowed} calls allowed, ${denied} denied, over ${decisions.length} roles; ${unused} unused grants (report ${reportFile})`,
        denials: denied,
      };
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function loadAssembly(options: DemoCloudOptions): Promise<CloudAssembly> {
  if (options.assemblyDir) return Promise.resolve(readCloudAssembly(options.assemblyDir));
  return synthesize({ projectRoot: options.projectRoot, log: options.log });
}

/** `stacks` and every stack they depend on, transitively. */
function withDependencies(assembly: CloudAssembly, stacks: readonly string[]): string[] {
  const byName = new Map(assembly.stacks.map((stack) => [stack.name, stack]));
  const wanted = new Set<string>();
  const add = (name: string) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    for (const dependency of byName.get(name)?.dependencies ?? []) add(dependency);
  };
  for (const name of stacks) add(name);
  return [...wanted];
}
