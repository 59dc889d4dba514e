/**
 * `npm run local`: the synthesized app (cdk.out) on this machine until Ctrl-C. DynamoDB Local and
 * local-aws-sqs run as daemons that outlive it (tables on disk in the state directory), so a
 * restart, even after `kill -9`, finds the same resources, queue URLs and data; messages a killed
 * run held are released at once (in-flight journal). With AWS_ENDPOINT_URL (LocalStack) it starts
 * no emulator and deploys there.
 *
 *   npm run local -- [--state-dir <dir>] [--fresh] [--destroy] [--iam-report] [--function-logs]
 *                    [--stack-file <path>] [--outputs-file <path>]
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from '../aws/client-config.ts';
import { type EmulatorDaemons, startEmulatorDaemons, stopEmulatorDaemons } from '../aws/daemons.ts';
import { DEFAULT_LOCAL_REGION, type LocalEndpoints } from '../aws/embedded.ts';
import { localEnv } from '../aws/local-env.ts';
import { synthesize } from '../cloud/assembly.ts';
import { destroyDeployment, planDeployment } from '../cloud/deploy.ts';
import { formatIamReport } from '../cloud/iam/report.ts';
import { type LocalCloud, stackFileOf, startLocalCloud, writeOutputsFile } from '../cloud/local-cloud.ts';
import {
  acquireStateLock,
  readLocalCloudState,
  type StateLock,
  writeLocalCloudState,
} from '../cloud/state.ts';
import { writeStackFile } from '../resources/stack-file.ts';

const USAGE = `usage: npm run local -- [options]
  --state-dir <dir>      emulator data, logs and run state (default .local)
  --fresh                stop the emulators, wipe the state directory, start clean
  --destroy              stop the emulators and wipe the state (with AWS_ENDPOINT_URL: delete the resources), then exit
  --iam-report           print the IAM report (calls allowed, denied, unused grants) at shutdown
  --function-logs        print every function's log lines, prefixed with its name
  --stack-file <path>    where to write the stack file (default <state-dir>/stack.json)
  --outputs-file <path>  where to write the stack outputs (default <state-dir>/outputs.json)`;

/** LocalStack's account: the ARNs in its queue URLs and policies name it. */
const LOCALSTACK_ACCOUNT = '000000000000';
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const log = (line: string) => console.log(`[local] ${line}`);

const args = parseFlags();
const stateDir = resolve(args['state-dir']);
const outputsFile = resolve(args['outputs-file'] ?? join(stateDir, 'outputs.json'));
const stackFile = resolve(args['stack-file'] ?? join(stateDir, 'stack.json'));
const env = localEnv();
const region = env.region ?? DEFAULT_LOCAL_REGION;
const external = env.sharedEndpoint;

let lock: StateLock | undefined;
try {
  lock = acquireStateLock(stateDir);
  process.on('exit', () => lock?.release());
  if (args.destroy) {
    await destroy();
    process.exit(0);
  }
  if (args.fresh) {
    log(`--fresh: wiping ${stateDir}`);
    await wipe();
    lock = acquireStateLock(stateDir);
  }
  await run();
} catch (error) {
  console.error(`[local] ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.DEBUG && error instanceof Error) console.error(error.stack);
  lock?.release();
  process.exit(1);
}

async function run(): Promise<void> {
  const [started, assembly] = await Promise.all([
    external === undefined ? startEmulatorDaemons({ stateDir, region, log }) : undefined,
    synthesize({ projectRoot, log }),
  ]);
  if (external) log(`using AWS_ENDPOINT_URL ${external}; starting no emulator`);
  const upstream: LocalEndpoints = started?.endpoints ?? { region, dynamodb: external!, sqs: external! };
  const previous = readLocalCloudState(stateDir);
  const cloud = await startLocalCloud({
    assembly,
    endpoints: upstream,
    ...(external ? { account: LOCALSTACK_ACCOUNT } : {}),
    log,
    onError: (error) => log(`event source: ${error instanceof Error ? error.message : String(error)}`),
    ...(args['function-logs']
      ? {
          onFunctionLog: (line: string, { functionName }: { functionName: string }) =>
            console.log(`${functionName} | ${line}`),
        }
      : {}),
    inFlightJournal: join(stateDir, 'in-flight.jsonl'),
    ...(previous ? { gatewayPorts: previous.gatewayPorts } : {}),
  });
  writeLocalCloudState(stateDir, {
    gatewayPorts: { dynamodb: portOf(cloud.endpoints.dynamodb), sqs: portOf(cloud.endpoints.sqs) },
  });
  await writeOutputsFile(cloud.deployment.outputs, outputsFile);
  await writeStackFile(stackFileOf(cloud), stackFile);
  console.log(banner(cloud, upstream, started));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      shutdown(cloud, signal).catch((error: unknown) => {
        console.error(`[local] shutdown: ${String(error)}`);
        process.exit(1);
      });
    });
  }
}

let stopping = false;
async function shutdown(cloud: LocalCloud, signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping the local cloud (event sources, functions, gateways)`);
  await cloud.stop();
  for (const [id, poller] of cloud.pollers) {
    const { invocations, records, deleted, failed } = poller.stats;
    log(`${id}: ${invocations} invocations, ${records} records, ${deleted} deleted, ${failed} failed`);
  }
  if (args['iam-report']) process.stdout.write(formatIamReport(cloud.iam));
  log(
    external
      ? `the resources stay on ${external}; \`npm run local -- --destroy\` deletes them`
      : `the emulators keep running (state in ${stateDir}); the next \`npm run local\` reattaches, \`npm run local -- --destroy\` stops them`,
  );
  lock?.release();
  process.exit(0);
}

/** `--destroy`: the daemons stopped and the state wiped; on an external endpoint its resources deleted first. */
async function destroy(): Promise<void> {
  if (external) {
    const assembly = await synthesize({ projectRoot, log });
    const plan = planDeployment(assembly, {
      region,
      account: LOCALSTACK_ACCOUNT,
      namePrefix: '',
      sqsOrigin: external,
    });
    await destroyDeployment(plan, {
      dynamodb: new DynamoDBClient(localClientConfig(external, region)),
      sqs: new SQSClient(localClientConfig(external, region)),
    });
    log(`deleted ${plan.tables.length} table(s) and ${plan.queues.length} queue(s) on ${external}`);
  }
  const stopped = await stopEmulatorDaemons(stateDir, { wipe: true });
  log(
    `${stopped.length === 0 ? 'no emulator was running' : `stopped the emulators (pids ${stopped.join(', ')})`}; wiped ${stateDir}`,
  );
}

/** `--fresh`: as `--destroy`, but the lock's directory is taken again afterwards by the caller. */
async function wipe(): Promise<void> {
  if (external) await destroy();
  else await stopEmulatorDaemons(stateDir, { wipe: true });
  await rm(stateDir, { recursive: true, force: true });
}

function banner(cloud: LocalCloud, upstream: LocalEndpoints, daemons: EmulatorDaemons | undefined): string {
  const { deployment, endpoints } = cloud;
  const behind = (service: 'dynamodb' | 'sqs', name: string) =>
    daemons ? `${name} ${upstream[service]}, pid ${daemons.pids[service]}` : upstream[service];
  const column = (label: string, value: string) => `    ${label.padEnd(54)} ${value}`;
  const queues = deployment.queues.map((q) => column(`${q.stack}/${q.logicalId}`, q.url));
  const tables = deployment.tables.map((t) => column(`${t.stack}/${t.logicalId}`, t.name));
  const sources = deployment.eventSourceMappings.map((m) => {
    const queue = deployment.queues.find((q) => q.arn === m.queueArn);
    const state = m.enabled ? `batch ${m.batchSize}, window ${m.maximumBatchingWindowSeconds} s` : 'disabled';
    return `    ${queue?.logicalId ?? m.queueArn} → ${m.functionName} (${state})`;
  });
  const write = deployment.outputs.WritePath ?? {};
  const cli = `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --region ${endpoints.region} --endpoint-url`;
  const emulators = daemons
    ? `emulators ${daemons.reattached ? 'reattached (still running)' : 'started'}, state in ${stateDir}`
    : `on ${external}`;
  return `
Local cloud ready (${emulators})
  DynamoDB    ${endpoints.dynamodb}   (IAM gateway → ${behind('dynamodb', 'DynamoDB Local')})
  SQS         ${endpoints.sqs}   (IAM gateway → ${behind('sqs', 'local-aws-sqs')})
  ECS         ${cloud.ecs.url}
  queues
${queues.join('\n')}
  tables
${tables.join('\n')}
  event sources
${sources.join('\n')}
  outputs     ${outputsFile}
  stack file  ${stackFile}${orphans(cloud)}

Try:
  ${cli} ${endpoints.sqs} sqs send-message \\
    --queue-url ${String(write.IngestQueueUrl)} \\
    --message-body '{"op":"put","table":"items","item":{"pk":"a","sk":"1","n":1},"version":1}'
  ${cli} ${endpoints.dynamodb} dynamodb scan --table-name ${String(write.TableName)}
  npm run send -- --stack-file ${stackFile} --count 1000 --versions --shuffle-versions

Ctrl-C stops the cloud; the emulators keep running (\`npm run local -- --destroy\` stops them).
`;
}

/** What the in-flight journal did at start, when a previous run was killed. */
function orphans(cloud: LocalCloud): string {
  const lines = [];
  if (cloud.orphansReleased > 0)
    lines.push(`  released    ${cloud.orphansReleased} message(s) a previous run left in flight`);
  if (cloud.orphansStranded > 0)
    lines.push(`  stranded    ${cloud.orphansStranded} message(s) come back after their visibility timeout`);
  return lines.map((line) => `\n${line}`).join('');
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        'state-dir': { type: 'string', default: '.local' },
        fresh: { type: 'boolean', default: false },
        destroy: { type: 'boolean', default: false },
        'iam-report': { type: 'boolean', default: false },
        'function-logs': { type: 'boolean', default: false },
        'stack-file': { type: 'string' },
        'outputs-file': { type: 'string' },
      },
    }).values;
  } catch (error) {
    console.error(`npm run local: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
