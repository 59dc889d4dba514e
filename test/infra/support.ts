import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { afterAll } from 'vitest';
import { WritePath, type WritePathProps } from '../../infra/constructs/write-path.ts';
import { cdkContext } from '../../infra/context.ts';
import { addNagChecks } from '../../infra/nag.ts';

/**
 * `cdk.json`'s context, minus asset bundling: template assertions never look inside the bundle,
 * and skipping esbuild makes a synth take a fraction of a second.
 */
export const testContext: Readonly<Record<string, unknown>> = { ...cdkContext, [BUNDLING_STACKS]: [] };

/** A temporary cloud assembly directory, removed after the calling test file's tests. */
export function tempOutdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-infra-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface WritePathFixture {
  readonly app: App;
  readonly stack: Stack;
  readonly writePath: WritePath;
}

/** A `WritePath` alone in a stack of an app with cdk-nag on (so a synth also runs the checks). */
export function writePathFixture(props: WritePathProps | undefined, outdir: string): WritePathFixture {
  const app = new App({ context: testContext, outdir });
  addNagChecks(app);
  const stack = new Stack(app, 'Test');
  const writePath = new WritePath(stack, 'WritePath', props);
  return { app, stack, writePath };
}

/** The template's logical id of an L2 construct (its default child). */
export function logicalIdOf(construct: IConstruct): string {
  const cfn = construct.node.defaultChild as CfnElement;
  return Stack.of(construct).getLogicalId(cfn);
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every statement of the inline policies attached to a role, in the template. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleLogicalId }] },
  });
  return Object.values(policies).flatMap(
    (policy) => (policy.Properties.PolicyDocument.Statement as Statement[] | undefined) ?? [],
  );
}

/** The actions a set of statements allows on one resource, sorted. */
export function actionsOn(statements: readonly Statement[], resource: unknown): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource) === JSON.stringify(resource))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .sort();
}

/** `{ "Fn::GetAtt": [logicalId, "Arn"] }`, as the template writes a resource's ARN. */
export function arnOf(logicalId: string): unknown {
  return { 'Fn::GetAtt': [logicalId, 'Arn'] };
}

/**
 * Renders an `Fn::Join` of literal strings, `Ref`s and `Fn::GetAtt`s as a string, each `Ref` as
 * `<Ref:logicalId>` and each `Fn::GetAtt` as `<GetAtt:logicalId.Attribute>`, so a test can parse a
 * JSON document (an environment variable, a dashboard body) that embeds resource names.
 */
export function renderJoin(value: unknown): string {
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1].map(renderToken).join(join[0]);
}

function renderToken(part: unknown): string {
  if (typeof part === 'string') return part;
  const token = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (token['Fn::GetAtt']) return `<GetAtt:${token['Fn::GetAtt'].join('.')}>`;
  return `<Ref:${token.Ref}>`;
}
