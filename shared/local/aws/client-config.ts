/**
 * Credentials for the local emulators: they do not check them (DynamoDB Local runs with
 * `-sharedDb`), and having some keeps the SDK from looking for real ones.
 */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** What an SDK client needs to talk to a local emulator. */
export interface LocalClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * The endpoint, region and placeholder credentials of a client for a local emulator.
 *
 * @example
 * const sqs = new SQSClient({ ...localClientConfig(stack.endpoints.sqs, stack.region), maxAttempts: 1 });
 */
export function localClientConfig(endpoint: string, region: string): LocalClientConfig {
  return { endpoint, region, credentials: localCredentials };
}
