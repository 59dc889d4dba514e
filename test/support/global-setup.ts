import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { endpointEnv, type LocalEndpoints, startEmbeddedAws } from '../../shared/local/aws/embedded.ts';
import { synthesize } from '../../shared/local/cloud/assembly.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** Where the integration tests' DynamoDB and SQS answer. */
    localAws: LocalEndpoints;
    /** The `AWS_*` variables that point the SDK there (see `endpointEnv`). */
    localAwsEnv: Record<string, string>;
    /** The synthesized app (`cdk.out`), fresh for this run: what the local cloud deploys. */
    cloudAssemblyDir: string;
  }
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts one embedded AWS stack (or uses AWS_ENDPOINT_URL) for the whole integration run, and
 * synthesizes the app (unless `cdk.out` is newer than every source) for the local-cloud tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [started, synthesized] = await Promise.allSettled([startEmbeddedAws(), synthesize({ projectRoot })]);
  if (started.status === 'rejected') throw started.reason;
  const aws = started.value;
  if (synthesized.status === 'rejected') {
    await aws.stop();
    throw synthesized.reason;
  }
  const assembly = synthesized.value;
  project.provide('cloudAssemblyDir', assembly.dir);
  project.provide('localAws', aws.endpoints);
  project.provide('localAwsEnv', endpointEnv(aws.endpoints));
  return () => aws.stop();
}
