import { type App, CfnResource, Stack } from 'aws-cdk-lib';

interface PolicyStatement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: unknown;
}

/**
 * Every IAM role of the app's synthesized templates → what it may do, one `Effect action on
 * resource [if condition]` line per action and resource, sorted. Logical ids are rendered as the
 * construct path they come from (`WritePath/WritePath/Table`), so the list reads like the design and
 * stays stable when hashes in logical ids change. Managed policies are listed as `managed <arn>`.
 */
export function roleGrants(app: App): Record<string, string[]> {
  const assembly = app.synth();
  const grants: Record<string, string[]> = {};
  for (const stack of app.node.findAll().filter((c): c is Stack => Stack.isStack(c))) {
    const paths = new Map<string, string>();
    for (const node of stack.node.findAll()) {
      if (node instanceof CfnResource && Stack.of(node) === stack) {
        paths.set(stack.getLogicalId(node), node.node.path.replace(/\/(Resource|Default)$/, ''));
      }
    }
    const resources = assembly.getStackByName(stack.stackName).template.Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    const render = (value: unknown): string => renderValue(value, paths);
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const lines: string[] = [];
      const inline =
        (resource.Properties.Policies as { PolicyDocument: { Statement: PolicyStatement[] } }[]) ?? [];
      const attached = Object.values(resources).filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          (r.Properties.Roles as unknown[]).some(
            (role) => JSON.stringify(role) === JSON.stringify({ Ref: id }),
          ),
      );
      const statements = [
        ...inline.flatMap((p) => p.PolicyDocument.Statement),
        ...attached.flatMap(
          (p) => (p.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement,
        ),
      ];
      for (const s of statements) {
        const actions = [s.Action ?? []].flat().map((a) => a);
        const notActions = [s.NotAction ?? []].flat().map((a) => `NOT ${a}`);
        const targets = [s.Resource ?? '*'].flat();
        const condition = s.Condition === undefined ? '' : ` if ${render(s.Condition)}`;
        for (const action of [...actions, ...notActions]) {
          for (const target of targets) lines.push(`${s.Effect} ${action} on ${render(target)}${condition}`);
        }
      }
      for (const arn of (resource.Properties.ManagedPolicyArns as unknown[]) ?? []) {
        lines.push(`managed ${render(arn)}`);
      }
      grants[paths.get(id) ?? id] = [...new Set(lines)].sort();
    }
  }
  return grants;
}

function renderValue(value: unknown, paths: ReadonlyMap<string, string>): string {
  // `${AWS::Region}` in Fn::Sub strings reads as `<AWS::Region>`, like a Ref.
  if (typeof value === 'string') return value.replace(/\$\{([^}]+)\}/g, '<$1>');
  if (Array.isArray(value)) return value.map((v) => renderValue(v, paths)).join(',');
  if (value === null || typeof value !== 'object') return String(value);
  const [[key, arg]] = Object.entries(value) as [[string, unknown]];
  if (key === 'Ref') {
    const ref = arg as string;
    return `<${paths.get(ref) ?? ref}>`;
  }
  if (key === 'Fn::GetAtt') {
    const [ref, attribute] = arg as [string, string];
    return `<${paths.get(ref) ?? ref}.${attribute}>`;
  }
  if (key === 'Fn::Join') {
    const [separator, parts] = arg as [string, unknown[]];
    return parts.map((p) => renderValue(p, paths)).join(separator);
  }
  if (key === 'Fn::GetStackOutput') {
    const { StackName, OutputName } = arg as { StackName: string; OutputName: string };
    return `<output ${OutputName} of stack ${StackName}>`;
  }
  if (key === 'Fn::Sub') return renderValue(arg, paths);
  if (key === 'Fn::ImportValue') return `import(${renderValue(arg, paths)})`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${k}: ${renderValue(v, paths)}`)
    .join('; ')}}`;
}
