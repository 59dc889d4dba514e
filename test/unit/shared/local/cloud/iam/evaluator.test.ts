import { describe, expect, it } from 'vitest';
import {
  authorizationRequests,
  formatIamReport,
  IamEvaluator,
  type LocalRole,
  type PolicyDocument,
  type PolicyStatement,
  UnknownRoleError,
} from '../../../../../../shared/local/cloud/iam/index.ts';

const ACCOUNT = '123456789012';
const table = (name: string) => `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${name}`;
const queue = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const ecsArn = (path: string) => `arn:aws:ecs:us-east-1:${ACCOUNT}:${path}`;

function role(name: string, ...statements: PolicyStatement[]): LocalRole {
  return {
    arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    name,
    stack: 'Test',
    logicalId: `${name}Role`,
    policies: [{ name: `${name}Policy`, document: { Version: '2012-10-17', Statement: statements } }],
  };
}

/** The queue policy the templates' secure queues carry. */
function denyInsecureTransport(queueArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Action: 'sqs:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Resource: queueArn,
      },
    ],
  };
}

describe('IamEvaluator', () => {
  it('allows what an identity policy grants and refuses the rest with AWS’s reason', async () => {
    // Prepare
    const writer = role('writer', {
      Effect: 'Allow',
      Action: 'dynamodb:BatchWriteItem',
      Resource: table('a'),
    });
    const iam = new IamEvaluator([writer]);
    // Act
    const allowed = await iam.authorize(writer, { action: 'dynamodb:BatchWriteItem', resource: table('a') });
    const denied = await iam.authorize(writer, { action: 'dynamodb:BatchWriteItem', resource: table('b') });
    // Assess
    expect(allowed).toMatchObject({ allowed: true });
    expect(denied).toEqual({
      allowed: false,
      denial: 'implicit',
      reason: 'because no identity-based policy allows the dynamodb:BatchWriteItem action',
    });
  });

  it('lets an explicit deny win over an allow', async () => {
    // Prepare
    const writer = role(
      'writer',
      { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' },
      { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: table('a') },
    );
    const iam = new IamEvaluator([writer]);
    // Act
    const decision = await iam.authorize(writer, { action: 'dynamodb:DeleteItem', resource: table('a') });
    // Assess
    expect(decision).toEqual({
      allowed: false,
      denial: 'identity-deny',
      reason: 'with an explicit deny in an identity-based policy',
    });
  });

  it('matches wildcard actions and resources', async () => {
    // Prepare
    const writer = role('writer', { Effect: 'Allow', Action: 'dynamodb:*Item', Resource: table('items-*') });
    const iam = new IamEvaluator([writer]);
    // Act
    const decisions = await Promise.all([
      iam.authorize(writer, { action: 'dynamodb:PutItem', resource: table('items-1') }),
      iam.authorize(writer, { action: 'dynamodb:UpdateItem', resource: table('items-2') }),
      iam.authorize(writer, { action: 'dynamodb:Query', resource: table('items-1') }),
      iam.authorize(writer, { action: 'dynamodb:PutItem', resource: table('jobs') }),
    ]);
    // Assess
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false, false]);
  });

  it('allows everything but the actions a NotAction statement names', async () => {
    // Prepare
    const reader = role('reader', {
      Effect: 'Allow',
      NotAction: ['dynamodb:DeleteItem', 'sqs:*'],
      Resource: '*',
    });
    const iam = new IamEvaluator([reader]);
    // Act
    const decisions = await Promise.all([
      iam.authorize(reader, { action: 'dynamodb:GetItem', resource: table('a') }),
      iam.authorize(reader, { action: 'dynamodb:DeleteItem', resource: table('a') }),
      iam.authorize(reader, { action: 'sqs:SendMessage', resource: queue('q') }),
    ]);
    // Assess
    expect(decisions.map((d) => d.allowed)).toEqual([true, false, false]);
  });

  it('checks an ArnEquals condition on ecs:cluster with the key the request mapping supplies', async () => {
    // Prepare: as the template's task role and instance role grant ECS actions in one cluster only.
    const cluster = ecsArn('cluster/workers');
    const task = role('task', {
      Effect: 'Allow',
      Action: 'ecs:UpdateTaskProtection',
      Resource: '*',
      Condition: { ArnEquals: { 'ecs:cluster': cluster } },
    });
    const iam = new IamEvaluator([task]);
    const checksFor = (clusterName: string) =>
      authorizationRequests(
        'ecs',
        { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.UpdateTaskProtection' },
        JSON.stringify({ cluster: clusterName, tasks: ['abc'], protectionEnabled: true }),
        { region: 'us-east-1', account: ACCOUNT },
      ).checks[0]!;
    // Act
    const inCluster = await iam.authorize(task, checksFor('workers'));
    const elsewhere = await iam.authorize(task, checksFor('other'));
    // Assess
    expect(inCluster.allowed).toBe(true);
    expect(elsewhere.allowed).toBe(false);
  });

  it('treats local calls as TLS ones, so the templates’ deny-insecure queue policies let them through', async () => {
    // Prepare
    const sender = role('sender', { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue('q') });
    const iam = new IamEvaluator([sender], {
      resourcePolicies: new Map([[queue('q'), denyInsecureTransport(queue('q'))]]),
    });
    // Act
    const decision = await iam.authorize(sender, { action: 'sqs:SendMessage', resource: queue('q') });
    // Assess
    expect(decision.allowed).toBe(true);
  });

  it('refuses what a resource policy explicitly denies, even when the identity policy allows it', async () => {
    // Prepare
    const sender = role('sender', { Effect: 'Allow', Action: 'sqs:*', Resource: '*' });
    const denyPurge: PolicyDocument = {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Deny',
        Principal: { AWS: sender.arn },
        Action: 'sqs:PurgeQueue',
        Resource: queue('q'),
      },
    };
    const iam = new IamEvaluator([sender], {
      resourcePolicies: new Map([[queue('q'), [denyInsecureTransport(queue('q')), denyPurge]]]),
    });
    // Act
    const purge = await iam.authorize(sender, { action: 'sqs:PurgeQueue', resource: queue('q') });
    const send = await iam.authorize(sender, { action: 'sqs:SendMessage', resource: queue('q') });
    // Assess
    expect(purge).toEqual({
      allowed: false,
      denial: 'resource-deny',
      reason: 'with an explicit deny in a resource-based policy',
    });
    expect(send.allowed).toBe(true);
  });

  it('allows, within the account, what only the resource policy grants', async () => {
    // Prepare
    const consumer = role('consumer');
    const grant: PolicyDocument = {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: consumer.arn },
        Action: 'sqs:ReceiveMessage',
        Resource: queue('q'),
      },
    };
    const iam = new IamEvaluator([consumer], { resourcePolicies: new Map([[queue('q'), grant]]) });
    // Act
    const decision = await iam.authorize(consumer, { action: 'sqs:ReceiveMessage', resource: queue('q') });
    // Assess
    expect(decision).toEqual({ allowed: true, reason: 'allowed by a resource-based policy' });
  });

  it('refuses an action IAM does not know rather than guess', async () => {
    // Prepare
    const admin = role('admin', { Effect: 'Allow', Action: '*', Resource: '*' });
    const iam = new IamEvaluator([admin]);
    // Act
    const decision = await iam.authorize(admin, { action: 'dynamodb:NoSuchAction', resource: table('a') });
    // Assess
    expect(decision).toMatchObject({ allowed: false, denial: 'invalid' });
  });

  it('refuses to decide for a role it was not built with', async () => {
    // Prepare
    const iam = new IamEvaluator([role('known')]);
    // Act
    const deciding = iam.authorize(role('stranger'), { action: 'sqs:SendMessage', resource: queue('q') });
    // Assess
    await expect(deciding).rejects.toThrow(UnknownRoleError);
  });
});

describe('IamEvaluator records', () => {
  const writer = role(
    'writer',
    {
      Sid: 'Write',
      Effect: 'Allow',
      Action: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'],
      Resource: table('a'),
    },
    { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [queue('dlq'), queue('other')] },
    { Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: queue('ingest') },
    { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: '*' },
    { Effect: 'Deny', Action: 'dynamodb:DeleteTable', Resource: '*' },
  );
  const idle = role('idle', { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });

  async function run(): Promise<IamEvaluator> {
    const iam = new IamEvaluator([writer, idle]);
    await iam.authorize(writer, { action: 'dynamodb:BatchWriteItem', resource: table('a') });
    await iam.authorize(writer, { action: 'dynamodb:BatchWriteItem', resource: table('a') });
    await iam.authorize(writer, { action: 'dynamodb:BatchWriteItem', resource: table('b') });
    await iam.authorize(writer, { action: 'sqs:SendMessage', resource: queue('dlq') });
    await iam.recordPlatformUse(writer, { action: 'sqs:ReceiveMessage', resource: queue('ingest') });
    return iam;
  }

  it('counts every decision per role, cached ones included, and tells the platform’s calls apart', async () => {
    // Act
    const iam = await run();
    // Assess
    expect(iam.decisions()).toEqual([
      {
        roleArn: writer.arn,
        roleName: 'writer',
        allowed: [
          expect.objectContaining({
            action: 'dynamodb:BatchWriteItem',
            resource: table('a'),
            by: 'code',
            count: 2,
          }),
          expect.objectContaining({
            action: 'sqs:SendMessage',
            resource: queue('dlq'),
            by: 'code',
            count: 1,
          }),
          expect.objectContaining({
            action: 'sqs:ReceiveMessage',
            resource: queue('ingest'),
            by: 'platform',
            count: 1,
          }),
        ],
        denied: [
          expect.objectContaining({ action: 'dynamodb:BatchWriteItem', resource: table('b'), count: 1 }),
        ],
      },
      { roleArn: idle.arn, roleName: 'idle', allowed: [], denied: [] },
    ]);
  });

  it('lists the denials with the role and the reason', async () => {
    // Act
    const iam = await run();
    // Assess
    expect(iam.denials()).toEqual([
      {
        roleArn: writer.arn,
        roleName: 'writer',
        action: 'dynamodb:BatchWriteItem',
        resource: table('b'),
        by: 'code',
        count: 1,
        reason: 'because no identity-based policy allows the dynamodb:BatchWriteItem action',
      },
    ]);
  });

  it('reports as unused exactly the (action, resource) pairs of Allow statements that no allowed call matched', async () => {
    // Act
    const iam = await run();
    // Assess
    expect(iam.unusedGrants()).toEqual([
      {
        roleArn: writer.arn,
        roleName: 'writer',
        grants: [
          { policy: 'writerPolicy', statement: 'Write', action: 'dynamodb:PutItem', resource: table('a') },
          { policy: 'writerPolicy', statement: '#2', action: 'sqs:SendMessage', resource: queue('other') },
          { policy: 'writerPolicy', statement: '#3', action: 'sqs:DeleteMessage', resource: queue('ingest') },
          { policy: 'writerPolicy', statement: '#4', action: 'logs:PutLogEvents', resource: '*' },
        ],
      },
      {
        roleArn: idle.arn,
        roleName: 'idle',
        grants: [{ policy: 'idlePolicy', statement: '#1', action: 'NotAction(iam:*)', resource: '*' }],
      },
    ]);
  });

  it('counts a NotAction grant used once an allowed call went through it', async () => {
    // Prepare
    const iam = await run();
    // Act
    await iam.authorize(idle, { action: 'dynamodb:GetItem', resource: table('a') });
    // Assess
    expect(iam.unusedGrants().find((u) => u.roleName === 'idle')?.grants).toEqual([]);
  });

  it('writes a report of calls, denials and unused grants per role', async () => {
    // Prepare
    const iam = await run();
    // Act
    const report = formatIamReport(iam);
    // Assess
    expect(report).toContain('writer (Test/writerRole)');
    expect(report).toContain(`    2 × dynamodb:BatchWriteItem on ${table('a')}`);
    expect(report).toContain(`    1 × sqs:ReceiveMessage on ${queue('ingest')} [platform]`);
    expect(report).toContain(
      `    1 × dynamodb:BatchWriteItem on ${table('b')} because no identity-based policy allows the dynamodb:BatchWriteItem action`,
    );
    expect(report).toContain(`    sqs:SendMessage on ${queue('other')} (writerPolicy #2)`);
    expect(report).toContain('idle (Test/idleRole)\n  allowed: none\n  denied: none');
  });
});
