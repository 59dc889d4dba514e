import type { TestProject } from 'vitest/node';
import { endpointEnv, type LocalEndpoints, startEmbeddedAws } from '../../shared/local/aws/embedded.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** Where the integration tests' DynamoDB and SQS answer. */
    localAws: LocalEndpoints;
    /** The `AWS_*` variables that point the SDK there (see `endpointEnv`). */
    localAwsEnv: Record<string, string>;
  }
}

/** Starts one embedded AWS stack (or uses AWS_ENDPOINT_URL) for the whole integration run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const aws = await startEmbeddedAws();
  project.provide('localAws', aws.endpoints);
  project.provide('localAwsEnv', endpointEnv(aws.endpoints));
  return () => aws.stop();
}
