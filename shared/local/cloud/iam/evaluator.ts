import { type RunSimulationResults, runSimulation, type StatementExplain } from '@cloud-copilot/iam-simulate';
import { UnknownRoleError } from './errors.ts';
import {
  type LocalRole,
  type OneOrMany,
  type PolicyDocument,
  type PolicyStatement,
  sessionArn,
} from './identities.ts';
import type { AuthorizationCheck } from './requests.ts';

/** Why a request was refused, in the words of AWS's AccessDenied messages. */
export type DenialKind = 'implicit' | 'identity-deny' | 'resource-deny' | 'invalid';

/** IAM's answer to one check. */
export interface Decision {
  readonly allowed: boolean;
  /**
   * For a refusal, the tail of AWS's message (`because no identity-based policy allows the
   * sqs:SendMessage action`, `with an explicit deny in an identity-based policy`); for an allow,
   * the statement that allowed it.
   */
  readonly reason: string;
  readonly denial?: DenialKind;
}

/** Who made the call: the function's code, or the platform acting with its role (Lambda's poller, its logs). */
export type Caller = 'code' | 'platform';

/** How often one (action, resource) pair was decided one way for one role. */
export interface DecisionCount {
  readonly action: string;
  readonly resource: string;
  readonly by: Caller;
  readonly count: number;
  readonly reason: string;
}

/** A role's decisions so far, in the order the pairs were first seen. */
export interface RoleDecisions {
  readonly roleArn: string;
  readonly roleName: string;
  readonly allowed: readonly DecisionCount[];
  readonly denied: readonly DecisionCount[];
}

/** A refused (action, resource) pair of one role. */
export interface Denial extends DecisionCount {
  readonly roleArn: string;
  readonly roleName: string;
}

/** One (action pattern, resource pattern) pair of an Allow statement. */
export interface Grant {
  readonly policy: string;
  /** The statement's Sid, or `#<1-based index>` when it has none. */
  readonly statement: string;
  /** An `Action` entry, or `NotAction(a, b)` for a NotAction statement. */
  readonly action: string;
  /** A `Resource` entry, or `NotResource(a, b)` for a NotResource statement. */
  readonly resource: string;
}

/** The grants of a role that no allowed request matched. */
export interface RoleUnusedGrants {
  readonly roleArn: string;
  readonly roleName: string;
  readonly grants: readonly Grant[];
}

export interface IamEvaluatorOptions {
  /**
   * Resource policies by resource ARN, e.g. SQS queue policies; several documents for one resource
   * are evaluated as one policy holding all their statements. @default none
   */
  readonly resourcePolicies?: ReadonlyMap<string, PolicyDocument | readonly PolicyDocument[]>;
}

/** What one simulation decided, and which grants allowed it. */
interface Evaluation {
  readonly decision: Decision;
  readonly matched: readonly string[];
}

interface Tally {
  readonly check: DecisionCount & { count: number };
  readonly allowed: boolean;
}

/**
 * Local calls stand in for TLS ones: the templates' queue policies deny `aws:SecureTransport=false`.
 * The principal keys are what AWS sets for a role session.
 */
function baseContext(role: LocalRole): Record<string, string> {
  return {
    'aws:SecureTransport': 'true',
    'aws:PrincipalArn': role.arn,
    'aws:PrincipalAccount': accountOf(role.arn),
  };
}

/**
 * Decides local AWS calls with the real IAM rules (explicit deny wins, wildcards, NotAction,
 * conditions) by simulating the role's identity policies and the resource's policy with
 * `@cloud-copilot/iam-simulate`, and records every decision, so that denials and unused grants can be
 * reported. Decisions are cached per (role, action, resource, context).
 *
 * @example
 * const iam = new IamEvaluator(roles, { resourcePolicies: queuePolicies });
 * const { allowed, reason } = await iam.authorize(role, { action: 'sqs:SendMessage', resource: queueArn });
 */
export class IamEvaluator {
  readonly roles: readonly LocalRole[];
  private readonly resourcePolicies = new Map<string, PolicyDocument>();
  private readonly byArn = new Map<string, LocalRole>();
  private readonly cache = new Map<string, Promise<Evaluation>>();
  private readonly tallies = new Map<string, Map<string, Tally>>();
  private readonly used = new Set<string>();

  constructor(roles: readonly LocalRole[], options: IamEvaluatorOptions = {}) {
    this.roles = roles;
    for (const [arn, documents] of options.resourcePolicies ?? []) {
      this.resourcePolicies.set(arn, merged(documents));
    }
    for (const role of roles) this.byArn.set(role.arn, role);
  }

  /** Decides a call the role's code makes, and records it. */
  authorize(role: LocalRole, check: AuthorizationCheck): Promise<Decision> {
    return this.decide(role, check, 'code');
  }

  /**
   * Decides a call the platform makes with the role (Lambda's event source poller receiving and
   * deleting messages, its runtime writing logs), and records it, so its grants count as used.
   */
  recordPlatformUse(role: LocalRole, check: AuthorizationCheck): Promise<Decision> {
    return this.decide(role, check, 'platform');
  }

  /** Per role, the allowed and denied (action, resource) pairs with their counts. */
  decisions(): RoleDecisions[] {
    return this.roles.map((role) => {
      const tallies = [...(this.tallies.get(role.arn)?.values() ?? [])];
      return {
        roleArn: role.arn,
        roleName: role.name,
        allowed: tallies.filter((t) => t.allowed).map((t) => ({ ...t.check })),
        denied: tallies.filter((t) => !t.allowed).map((t) => ({ ...t.check })),
      };
    });
  }

  /** Every refused (action, resource) pair, role by role. */
  denials(): Denial[] {
    return this.decisions().flatMap(({ roleArn, roleName, denied }) =>
      denied.map((count) => ({ roleArn, roleName, ...count })),
    );
  }

  /** Per role, the (action, resource) pairs of its Allow statements that no allowed call matched. */
  unusedGrants(): RoleUnusedGrants[] {
    return this.roles.map((role) => ({
      roleArn: role.arn,
      roleName: role.name,
      grants: grantsOf(role).filter((grant) => !this.used.has(grantKey(role, grant))),
    }));
  }

  private async decide(role: LocalRole, check: AuthorizationCheck, by: Caller): Promise<Decision> {
    const known = this.byArn.get(role.arn);
    if (!known) throw new UnknownRoleError(role.arn);
    const key = JSON.stringify([known.arn, check.action, check.resource, sortedEntries(check.context)]);
    let evaluation = this.cache.get(key);
    if (!evaluation) {
      evaluation = this.simulate(known, check);
      this.cache.set(key, evaluation);
    }
    const { decision, matched } = await evaluation;
    this.tally(known, check, by, decision);
    if (decision.allowed) for (const grant of matched) this.used.add(grant);
    return decision;
  }

  private tally(role: LocalRole, check: AuthorizationCheck, by: Caller, decision: Decision): void {
    const tallies = this.tallies.get(role.arn) ?? new Map<string, Tally>();
    this.tallies.set(role.arn, tallies);
    const key = JSON.stringify([check.action, check.resource, by, decision.allowed]);
    const tally = tallies.get(key);
    if (tally) tally.check.count++;
    else {
      const { action, resource } = check;
      tallies.set(key, {
        allowed: decision.allowed,
        check: { action, resource, by, count: 1, reason: decision.reason },
      });
    }
  }

  private async simulate(role: LocalRole, check: AuthorizationCheck): Promise<Evaluation> {
    const account = accountOf(role.arn);
    const result = await runSimulation(
      {
        request: {
          principal: sessionArn(role),
          action: check.action,
          resource: { resource: check.resource, accountId: accountOf(check.resource) || account },
          contextVariables: { ...baseContext(role), ...check.context },
        },
        identityPolicies: role.policies.map((policy) => ({ name: policy.name, policy: policy.document })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: this.resourcePolicies.get(check.resource),
      },
      {},
    );
    return evaluationOf(role, check, result);
  }
}

function evaluationOf(role: LocalRole, check: AuthorizationCheck, result: RunSimulationResults): Evaluation {
  if (result.resultType === 'error') {
    const reason = `because the local IAM simulation rejected the request (${result.errors.message})`;
    return { decision: { allowed: false, reason, denial: 'invalid' }, matched: [] };
  }
  const analyses = (result.resultType === 'single' ? [result.result] : result.results).map((r) => r.analysis);
  if (result.overallResult === 'ExplicitlyDenied') {
    const byIdentity = analyses.some((a) => a.identityAnalysis?.result === 'ExplicitlyDenied');
    const denial = byIdentity ? 'identity-deny' : 'resource-deny';
    const where = byIdentity ? 'an identity-based policy' : 'a resource-based policy';
    return { decision: { allowed: false, reason: `with an explicit deny in ${where}`, denial }, matched: [] };
  }
  if (result.overallResult !== 'Allowed') {
    const reason = `because no identity-based policy allows the ${check.action} action`;
    return { decision: { allowed: false, reason, denial: 'implicit' }, matched: [] };
  }
  const allows = analyses.flatMap((a) => a.identityAnalysis?.allowStatements ?? []);
  const matched = allows.flatMap((a) => matchedGrants(role, a.policyId, a.statement.index(), a.explain));
  const first = allows[0];
  const reason = first
    ? `allowed by ${first.policyId} statement ${labelOf(role, first.policyId, first.statement.index())}`
    : 'allowed by a resource-based policy';
  return { decision: { allowed: true, reason }, matched };
}

/** The keys of the grants an allowing statement's explain says matched. */
function matchedGrants(role: LocalRole, policy: string, index: number, explain: StatementExplain): string[] {
  const statement = statementOf(role, policy, index);
  if (!statement) return [];
  const actions = explain.notActions
    ? [negated('NotAction', statement.NotAction)]
    : matching(explain.actions, (a) => a.action);
  const resources = explain.notResources
    ? [negated('NotResource', statement.NotResource)]
    : matching(explain.resources, (r) => r.resource);
  const label = statementLabel(statement, index);
  return actions.flatMap((action) =>
    resources.map((resource) => grantKey(role, { policy, statement: label, action, resource })),
  );
}

function matching<T extends { matches: boolean }>(
  explains: T | T[] | undefined,
  pattern: (e: T) => string,
): string[] {
  return list(explains)
    .filter((e) => e.matches)
    .map(pattern);
}

/** Every (action pattern, resource pattern) pair of the role's Allow statements. */
export function grantsOf(role: LocalRole): Grant[] {
  return role.policies.flatMap((policy) =>
    statements(policy.document).flatMap((statement, i) => {
      if (statement.Effect !== 'Allow') return [];
      const label = statementLabel(statement, i + 1);
      const actions = statement.NotAction
        ? [negated('NotAction', statement.NotAction)]
        : strings(statement.Action);
      const resources = statement.NotResource
        ? [negated('NotResource', statement.NotResource)]
        : strings(statement.Resource);
      return actions.flatMap((action) =>
        resources.map((resource) => ({ policy: policy.name, statement: label, action, resource })),
      );
    }),
  );
}

function statementOf(role: LocalRole, policy: string, index: number): PolicyStatement | undefined {
  const document = role.policies.find((p) => p.name === policy)?.document;
  return document && statements(document)[index - 1];
}

function labelOf(role: LocalRole, policy: string, index: number): string {
  return statementLabel(statementOf(role, policy, index), index);
}

function statementLabel(statement: PolicyStatement | undefined, index: number): string {
  return typeof statement?.Sid === 'string' && statement.Sid !== '' ? statement.Sid : `#${index}`;
}

function negated(element: 'NotAction' | 'NotResource', patterns: unknown): string {
  return `${element}(${strings(patterns).join(', ')})`;
}

/** The string entries of a policy element that holds one string or a list of them. */
function strings(value: unknown): string[] {
  return list<unknown>(value).filter((entry): entry is string => typeof entry === 'string');
}

/** One document holding the statements of `documents`. */
function merged(documents: PolicyDocument | readonly PolicyDocument[]): PolicyDocument {
  const all = list<PolicyDocument>(documents);
  if (all.length === 1) return all[0]!;
  return { Version: '2012-10-17', Statement: all.flatMap(statements) };
}

function statements(document: PolicyDocument): readonly PolicyStatement[] {
  return list<PolicyStatement>(document.Statement);
}

function grantKey(role: LocalRole, grant: Grant): string {
  return JSON.stringify([role.arn, grant.policy, grant.statement, grant.action, grant.resource]);
}

function list<T>(value: OneOrMany<T> | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value as T];
}

function sortedEntries(context: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** The account field of an ARN; empty for `*`. */
function accountOf(arn: string): string {
  return arn.split(':')[4] ?? '';
}
