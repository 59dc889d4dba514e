import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { endpointEnv, startEmbeddedAws } from '../../../shared/local/aws/embedded.ts';
import { synthesize } from '../../../shared/local/cloud/assembly.ts';
import { type Denial, formatIamReport } from '../../../shared/local/cloud/iam/index.ts';
import { startLocalCloud, writeOutputsFile } from '../../../shared/local/cloud/local-cloud.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** The variables the e2e workers run with: the target (`E2E_OUTPUTS_FILE`) and, locally, the SDK's endpoints. */
    e2eEnv: Record<string, string>;
  }
}

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** LocalStack's account: ARNs in its queue URLs and policies name it. */
const LOCALSTACK_ACCOUNT = '000000000000';

/** One refused call per line, for the teardown's error. */
export class IamDenialsError extends Error {
  override readonly name = 'IamDenialsError';
  constructor(readonly denials: readonly Denial[]) {
    super(
      `the local cloud refused ${denials.length} call(s) the template IAM does not allow:\n${denials
        .map((d) => `  ${d.roleName}: ${d.count} × ${d.action} on ${d.resource} (${d.reason})`)
        .join('\n')}`,
    );
  }
}

/**
 * With `E2E_OUTPUTS_FILE` or `E2E_STACKS` set, the suite runs against that deployment and this
 * starts nothing. Otherwise (CI) it "deploys" the synthesized app on the local cloud — the embedded
 * emulators (or LocalStack with `AWS_ENDPOINT_URL`) behind IAM-enforcing gateways — writes
 * `.local/outputs.json` and points the workers at it. The teardown prints the IAM report and fails
 * the run if any call was denied.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.E2E_OUTPUTS_FILE || process.env.E2E_STACKS) {
    project.provide('e2eEnv', {});
    return undefined;
  }
  const log = (line: string) => process.stderr.write(`[e2e local cloud] ${line}\n`);
  const [started, synthesized] = await Promise.allSettled([
    startEmbeddedAws({ log }),
    synthesize({ projectRoot, log }),
  ]);
  if (started.status === 'rejected') throw started.reason;
  const aws = started.value;
  if (synthesized.status === 'rejected') {
    await aws.stop();
    throw synthesized.reason;
  }
  const pollerErrors: unknown[] = [];
  const cloud = await startLocalCloud({
    assembly: synthesized.value,
    endpoints: aws.endpoints,
    ...(aws.started ? {} : { account: LOCALSTACK_ACCOUNT }),
    log,
    onError: (error) => pollerErrors.push(error),
    ...(process.env.E2E_FUNCTION_LOGS
      ? { onFunctionLog: (line, { functionName }) => log(`${functionName}: ${line}`) }
      : {}),
  }).catch(async (error: unknown) => {
    await aws.stop();
    throw error;
  });
  const outputsFile = join(projectRoot, '.local', 'outputs.json');
  await writeOutputsFile(cloud.deployment.outputs, outputsFile);
  project.provide('e2eEnv', { ...endpointEnv(cloud.endpoints), E2E_OUTPUTS_FILE: outputsFile });

  return async () => {
    const denials = cloud.iam.denials();
    process.stdout.write(formatIamReport(cloud.iam));
    if (pollerErrors.length > 0)
      log(`${pollerErrors.length} event-source error(s); first: ${String(pollerErrors[0])}`);
    try {
      await cloud.stop();
      await cloud.destroy();
    } finally {
      await aws.stop();
    }
    if (denials.length > 0) throw new IamDenialsError(denials);
  };
}
