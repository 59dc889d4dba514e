import { createHash } from 'node:crypto';
import { IdentityConflictError, UnknownRoleError } from './errors.ts';

/** One or several values, as IAM policy elements take them. */
export type OneOrMany<T> = T | readonly T[];

/**
 * A statement of a resolved IAM policy, as the template holds it (no CloudFormation intrinsics
 * left): `Effect`, `Action`/`NotAction`, `Resource`/`NotResource`, `Condition`, `Sid`, and for
 * resource policies `Principal`. The simulator validates it.
 */
export type PolicyStatement = Readonly<Record<string, unknown>>;

/** A resolved IAM policy document. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: OneOrMany<PolicyStatement>;
}

/** An IAM role of a synthesized stack, with its identity policies (inline and attached, resolved). */
export interface LocalRole {
  readonly arn: string;
  readonly name: string;
  /** The stack that defines it (e.g. `WritePath`). */
  readonly stack: string;
  /** Its logical id in the stack's template. */
  readonly logicalId: string;
  readonly policies: readonly { readonly name: string; readonly document: PolicyDocument }[];
}

/** Static SDK credentials. */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Prefix of every role's access key id: `ASIA` as AWS's temporary keys, then `LOCAL`. */
export const ROLE_ACCESS_KEY_PREFIX = 'ASIALOCAL';

/** The emulators check no signature, so one secret serves every role. */
const ROLE_SECRET = 'local-iam-role-secret';

/**
 * The credentials a local function runs with to act as `role`: the access key id names the role
 * (`ASIALOCAL` + 11 hex characters of the ARN's sha256, 20 characters like AWS's), the same on every run.
 *
 * @example
 * const dynamodb = new DynamoDBClient({ endpoint: gateway.url, credentials: credentialsFor(role) });
 */
export function credentialsFor(role: Pick<LocalRole, 'arn'>): LocalCredentials {
  const digest = createHash('sha256').update(role.arn).digest('hex').slice(0, 11).toUpperCase();
  return { accessKeyId: `${ROLE_ACCESS_KEY_PREFIX}${digest}`, secretAccessKey: ROLE_SECRET };
}

/** Whether an access key id was made by `credentialsFor`, whichever registry knows its role. */
export function isRoleAccessKey(accessKeyId: string): boolean {
  return accessKeyId.startsWith(ROLE_ACCESS_KEY_PREFIX);
}

/**
 * The roles the local cloud knows, found by access key id. Any access key id not made by
 * `credentialsFor` (e.g. `local`, which tests and tools use) is the account's admin: allowed
 * everything, recorded nowhere.
 */
export class LocalIdentities {
  readonly roles: readonly LocalRole[];
  private readonly byAccessKey = new Map<string, LocalRole>();

  constructor(roles: readonly LocalRole[]) {
    this.roles = roles;
    for (const role of roles) {
      const { accessKeyId } = credentialsFor(role);
      const other = this.byAccessKey.get(accessKeyId);
      if (other) throw new IdentityConflictError(role.arn, other.arn);
      this.byAccessKey.set(accessKeyId, role);
    }
  }

  /** The role whose credentials carry `accessKeyId`; undefined for admin keys and unknown role keys. */
  roleOfAccessKey(accessKeyId: string): LocalRole | undefined {
    return this.byAccessKey.get(accessKeyId);
  }

  /** `credentialsFor(role)`, for a role of this registry. */
  credentialsFor(role: LocalRole): LocalCredentials {
    const credentials = credentialsFor(role);
    if (this.byAccessKey.get(credentials.accessKeyId)?.arn !== role.arn) throw new UnknownRoleError(role.arn);
    return credentials;
  }

  /** The role named `name` (or with that ARN). */
  role(nameOrArn: string): LocalRole | undefined {
    return this.roles.find((role) => role.name === nameOrArn || role.arn === nameOrArn);
  }
}

/** The session name of every local role session, as in `assumed-role/<role>/local`. */
export const LOCAL_SESSION_NAME = 'local';

/** The ARN a role's session acts as, which AWS names in AccessDenied messages. */
export function sessionArn(role: Pick<LocalRole, 'arn' | 'name'>): string {
  return `arn:aws:sts::${role.arn.split(':')[4] ?? ''}:assumed-role/${role.name}/${LOCAL_SESSION_NAME}`;
}
