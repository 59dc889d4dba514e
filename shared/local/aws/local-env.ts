import { sharedEndpointUrl } from '../../core/env.ts';

/** What the local stack needs from the environment, read in one place. */
export interface LocalEnv {
  /** `AWS_ENDPOINT_URL` (e.g. LocalStack on :4566): use it instead of starting emulators. */
  readonly sharedEndpoint: string | undefined;
  /** `AWS_REGION`, else `AWS_DEFAULT_REGION`, when either is set. */
  readonly region: string | undefined;
  /** Whether the caller brought credentials (`AWS_ACCESS_KEY_ID` or `AWS_PROFILE`). */
  readonly hasCredentials: boolean;
}

/** Reads the local stack's environment; pass `env` in tests. */
export function localEnv(env: NodeJS.ProcessEnv = process.env): LocalEnv {
  return {
    sharedEndpoint: sharedEndpointUrl(env),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    hasCredentials: Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE),
  };
}
