import { join } from 'node:path';
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
    /**
     * The synthesized test app (`cdk.out.test`, from test/support/cloud/test-app.ts): the project's
     * stacks in the variants the write-path tests need (FIFO, short timeouts, data tables).
     */
    testAssemblyDir: string;
  }
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts one embedded AWS stack (or uses AWS_ENDPOINT_URL) for the whole integration run, and
 * synthesizes the app and the test app (each unless its assembly is newer than every source) for
 * the local-cloud tests, all three at once.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [started, app, testApp] = await Promise.allSettled([
    startEmbeddedAws(),
    synthesize({ projectRoot }),
    synthesize({
      projectRoot,
      app: 'test/support/cloud/test-app.ts',
      sources: ['test/support/cloud'],
      outdir: join(projectRoot, 'cdk.out.test'),
    }),
  ]);
  if (started.status === 'rejected') throw started.reason;
  const aws = started.value;
  try {
    project.provide('cloudAssemblyDir', fulfilled(app).dir);
    project.provide('testAssemblyDir', fulfilled(testApp).dir);
  } catch (error) {
    await aws.stop();
    throw error;
  }
  project.provide('localAws', aws.endpoints);
  project.provide('localAwsEnv', endpointEnv(aws.endpoints));
  return () => aws.stop();
}

function fulfilled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
