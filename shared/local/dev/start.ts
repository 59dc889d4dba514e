/**
 * `npm start`: the synthesized app on the local cloud. Starts fresh in-memory emulators, synthesizes
 * the app (unless cdk.out is fresh), "deploys" every stack with `startLocalCloud`, then runs three
 * demos through the deployment's public surfaces — the write path, config snapshots, GPU inference
 * on CPU — and ends with the IAM record. Exits 1 when a check fails or IAM refused any call.
 *
 *   npm start -- [--local-dir <dir>] [--assembly <cdk.out>] [--function-logs]
 */
import { runInferenceDemo } from './demo/inference.ts';
import { runSnapshotsDemo } from './demo/snapshots.ts';
import { runWritePathDemo } from './demo/write-path.ts';
import { demoArgs } from './lib/args.ts';
import { startDemoCloud } from './lib/demo-cloud.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);
const indented = (line: string) => log(`  ${line}`);
const started = performance.now();

const demo = await startDemoCloud({ ...demoArgs(process.argv.slice(2)), log });
const failures: string[] = [];
try {
  log(`\nWrite path (${demo.cloud.deployment.functions.length} functions from cdk.out)`);
  const writePath = await runWritePathDemo(demo, indented);
  if (!writePath.stateOk) failures.push('write path');

  log('\nConfig snapshots');
  const snapshots = await runSnapshotsDemo(demo, indented);
  log(
    `  snapshot demo ended on stable version ${snapshots.stableVersion}; canary share ${(snapshots.canaryShare * 100).toFixed(1)}%; ` +
      `invalid change → DLQ ${snapshots.deadLetteredCodes.join(', ')}`,
  );
  if (!snapshots.auditWritten || snapshots.refusedBefore !== 'UNKNOWN_TABLE')
    failures.push('config snapshots');

  log('\nGPU inference (CPU here)');
  const inference = await runInferenceDemo(demo, indented);
  if (!inference.matchesReference || inference.deadLettered !== 2) failures.push('GPU inference');

  const iam = await demo.iamSummary();
  log(`\n${iam.line}`);
  if (iam.denials > 0) failures.push('IAM');
} finally {
  await demo.stop();
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
log(
  failures.length === 0
    ? `\nall checks passed in ${seconds} s`
    : `\nFAILED: ${failures.join(', ')} (${seconds} s)`,
);
// Exit now: DynamoDB Local's stop leaves its 5 s kill-grace timer running after the JVM is gone.
process.exit(failures.length === 0 ? 0 : 1);
