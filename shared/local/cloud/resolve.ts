import { createHash } from 'node:crypto';
import type { StackArtifact, TemplateResource } from './assembly.ts';
import { TemplateResolutionError } from './errors.ts';

/** Where the local cloud runs: what the pseudo parameters and ARNs say. */
export interface LocalCloudIdentity {
  readonly region: string;
  readonly account: string;
  /** Origin queue URLs start with (the SQS endpoint functions and tools reach), e.g. `http://127.0.0.1:4566`. */
  readonly sqsOrigin: string;
  /**
   * Put before every generated physical name, so that one app can be deployed several times side by
   * side (tests), as under other stack names. @default ''
   */
  readonly namePrefix?: string;
}

/** What `Ref` and `Fn::GetAtt` give for a resource. */
export interface PhysicalResource {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Marks a value that `AWS::NoValue` removed from its object or list. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves CloudFormation intrinsics in one stack's template against the local cloud: pseudo
 * parameters, `Ref`/`Fn::GetAtt` to the resources' local physical ids, parameters' defaults,
 * conditions, string functions, and cross-stack references (`Fn::GetStackOutput`, the weak
 * references of this app; `Fn::ImportValue`) to the outputs of stacks resolved before it.
 */
export class StackResolver {
  private readonly physical = new Map<string, PhysicalResource>();
  private readonly conditionValues = new Map<string, boolean>();

  constructor(
    readonly stack: StackArtifact,
    private readonly identity: LocalCloudIdentity,
    /** Outputs of the stacks deployed before this one: stack name → output name → value. */
    private readonly outputs: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
    private readonly exports: ReadonlyMap<string, unknown> = new Map(),
  ) {}

  /** The resources whose `Condition` holds, by logical id. */
  get resources(): [string, TemplateResource][] {
    return Object.entries(this.stack.template.Resources).filter(
      ([, resource]) => resource.Condition === undefined || this.condition(resource.Condition),
    );
  }

  /** Local physical id and attributes of a resource (see `physicalResource`). */
  resource(logicalId: string): PhysicalResource {
    let known = this.physical.get(logicalId);
    if (known === undefined) {
      const resource = this.stack.template.Resources[logicalId];
      if (resource === undefined)
        throw new TemplateResolutionError(this.stack.name, logicalId, 'no such resource in the template');
      known = physicalResource(this, logicalId, resource);
      this.physical.set(logicalId, known);
    }
    return known;
  }

  /** The stack's `Outputs`, resolved. */
  resolveOutputs(): Record<string, unknown> {
    const resolved: Record<string, unknown> = {};
    for (const [name, output] of Object.entries(this.stack.template.Outputs ?? {})) {
      resolved[name] = this.resolve(output.Value, `Outputs.${name}`);
    }
    return resolved;
  }

  /** The stack's exports (`Outputs.*.Export.Name` → value), resolved. */
  resolveExports(): Map<string, unknown> {
    const resolved = new Map<string, unknown>();
    for (const [name, output] of Object.entries(this.stack.template.Outputs ?? {})) {
      if (output.Export)
        resolved.set(
          String(this.resolve(output.Export.Name, `Outputs.${name}.Export`)),
          this.resolve(output.Value, name),
        );
    }
    return resolved;
  }

  get region(): string {
    return this.identity.region;
  }

  get account(): string {
    return this.identity.account;
  }

  get sqsOrigin(): string {
    return this.identity.sqsOrigin;
  }

  get namePrefix(): string {
    return this.identity.namePrefix ?? '';
  }

  /** `value` with every intrinsic replaced by its local value; `where` names the spot in errors. */
  resolve(value: unknown, where: string): unknown {
    const resolved = this.walk(value, where);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** A resource's `Properties`, resolved. */
  properties(logicalId: string): Record<string, unknown> {
    const resource = this.stack.template.Resources[logicalId];
    return (this.resolve(resource?.Properties ?? {}, `Resources.${logicalId}.Properties`) ?? {}) as Record<
      string,
      unknown
    >;
  }

  condition(name: string): boolean {
    let known = this.conditionValues.get(name);
    if (known === undefined) {
      const definition = this.stack.template.Conditions?.[name];
      if (definition === undefined)
        throw new TemplateResolutionError(this.stack.name, `Conditions.${name}`, 'no such condition');
      known = Boolean(this.walk(definition, `Conditions.${name}`));
      this.conditionValues.set(name, known);
    }
    return known;
  }

  private walk(value: unknown, where: string): unknown {
    if (Array.isArray(value)) {
      return value.map((item, i) => this.walk(item, `${where}[${i}]`)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, argument] = entries[0]!;
      if (key === 'Ref') return this.ref(String(argument), where);
      if (key.startsWith('Fn::') || key === 'Condition') return this.intrinsic(key, argument, where);
    }
    const resolved: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const next = this.walk(item, `${where}.${key}`);
      if (next !== NO_VALUE) resolved[key] = next;
    }
    return resolved;
  }

  private ref(name: string, where: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.identity.region;
      case 'AWS::AccountId':
        return this.identity.account;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stack.name;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.identity.region}:${this.identity.account}:stack/${this.stack.name}/${stableId(this.stack.name, 'uuid')}`;
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    const parameter = this.stack.template.Parameters?.[name];
    if (parameter !== undefined) {
      // SSM-backed parameters (the CDK bootstrap version, AMI ids) have no local value.
      return parameter.Type.startsWith('AWS::SSM::Parameter')
        ? `local-unresolved:${name}`
        : parameter.Default;
    }
    if (this.stack.template.Resources[name] === undefined)
      throw new TemplateResolutionError(this.stack.name, where, `Ref to unknown ${name}`);
    return this.resource(name).ref;
  }

  private intrinsic(key: string, argument: unknown, where: string): unknown {
    const args = Array.isArray(argument) ? argument : [argument];
    const at = `${where}.${key}`;
    switch (key) {
      case 'Fn::GetAtt': {
        const [logicalId, attribute] =
          typeof argument === 'string' ? splitOnce(argument, '.') : (args.map(String) as [string, string]);
        return this.getAtt(logicalId, String(this.walk(attribute, at)), at);
      }
      case 'Fn::Join': {
        const [separator, items] = args as [string, unknown];
        return (this.walk(items, at) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Sub':
        return this.sub(args[0] as string, (args[1] ?? {}) as Record<string, unknown>, at);
      case 'Fn::Select': {
        const [index, list] = args;
        return (this.walk(list, at) as unknown[])[Number(this.walk(index, at))];
      }
      case 'Fn::Split': {
        const [separator, text] = args as [string, unknown];
        return String(this.walk(text, at)).split(separator);
      }
      case 'Fn::Base64':
        return Buffer.from(String(this.walk(argument, at))).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.identity.region}${zone}`);
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = args as [string, unknown, unknown];
        return this.walk(this.condition(condition) ? whenTrue : whenFalse, at);
      }
      case 'Fn::Equals': {
        const [left, right] = args.map((item) => this.walk(item, at));
        return JSON.stringify(left) === JSON.stringify(right);
      }
      case 'Fn::Not':
        return !this.walk(args[0], at);
      case 'Fn::And':
        return args.every((item) => this.walk(item, at));
      case 'Fn::Or':
        return args.some((item) => this.walk(item, at));
      case 'Condition':
        return this.condition(String(argument));
      case 'Fn::GetStackOutput': {
        const spec = this.walk(argument, at) as { StackName: string; OutputName: string };
        const value = this.outputs.get(spec.StackName)?.[spec.OutputName];
        if (value === undefined)
          throw new TemplateResolutionError(
            this.stack.name,
            at,
            `no output ${spec.OutputName} of stack ${spec.StackName} (is it deployed before this one?)`,
          );
        return value;
      }
      case 'Fn::ImportValue': {
        const name = String(this.walk(argument, at));
        if (!this.exports.has(name))
          throw new TemplateResolutionError(this.stack.name, at, `no stack exports ${name}`);
        return this.exports.get(name);
      }
      default:
        throw new TemplateResolutionError(this.stack.name, at, `${key} is not supported locally`);
    }
  }

  private getAtt(logicalId: string, attribute: string, where: string): string {
    if (this.stack.template.Resources[logicalId] === undefined)
      throw new TemplateResolutionError(
        this.stack.name,
        where,
        `Fn::GetAtt of unknown resource ${logicalId}`,
      );
    const value = this.resource(logicalId).attributes[attribute];
    // An attribute of a resource the local cloud does not emulate: a stable stand-in.
    return value ?? `local:${logicalId}.${attribute}`;
  }

  private sub(template: string, variables: Record<string, unknown>, where: string): string {
    return template.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in variables) return String(this.walk(variables[name], where));
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [logicalId, attribute] = splitOnce(name, '.');
        return this.getAtt(logicalId, attribute, where);
      }
      return String(this.ref(name, where));
    });
  }
}

function splitOnce(text: string, separator: string): [string, string] {
  const index = text.indexOf(separator);
  return index < 0 ? [text, ''] : [text.slice(0, index), text.slice(index + 1)];
}

/** A stable, name-safe id for `parts`: uppercase letters and digits, like CloudFormation's suffixes. */
export function stableId(...parts: string[]): string {
  return createHash('sha256')
    .update(parts.join('/'))
    .digest('base64url')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 12)
    .toUpperCase();
}

/**
 * The physical name CloudFormation would generate for a resource without an explicit name
 * (`<stack>-<logicalId>-<suffix>`, within `maxLength`), except that the suffix is derived from
 * stack and logical id instead of random: the same resource gets the same name on every start.
 */
export function physicalName(stack: string, logicalId: string, maxLength: number, suffix = ''): string {
  const id = stableId(stack, logicalId);
  const room = maxLength - id.length - 1 - suffix.length;
  return `${`${stack}-${logicalId}`.slice(0, room)}-${id}${suffix}`;
}

/** `Ref` and attributes of each resource type the pipeline uses; others get stable stand-ins. */
function physicalResource(
  resolver: StackResolver,
  logicalId: string,
  resource: TemplateResource,
): PhysicalResource {
  const stack = resolver.stack.name;
  const { region, account } = resolver;
  const props = (resource.Properties ?? {}) as Record<string, unknown>;
  const named = (property: string, maxLength: number, suffix = '') =>
    props[property] === undefined
      ? physicalName(`${resolver.namePrefix}${stack}`, logicalId, maxLength, suffix)
      : String(resolver.resolve(props[property], `Resources.${logicalId}.Properties.${property}`));
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table': {
      const name = named('TableName', 255);
      const arn = `arn:aws:dynamodb:${region}:${account}:table/${name}`;
      return { ref: name, attributes: { Arn: arn, StreamArn: `${arn}/stream/local` } };
    }
    case 'AWS::SQS::Queue': {
      const fifo = String(props.FifoQueue) === 'true';
      const name = named('QueueName', 80, fifo ? '.fifo' : '');
      const url = `${resolver.sqsOrigin}/${account}/${name}`;
      return {
        ref: url,
        attributes: { Arn: `arn:aws:sqs:${region}:${account}:${name}`, QueueName: name, QueueUrl: url },
      };
    }
    case 'AWS::Lambda::Function': {
      const name = named('FunctionName', 64);
      return { ref: name, attributes: { Arn: `arn:aws:lambda:${region}:${account}:function:${name}` } };
    }
    case 'AWS::IAM::Role': {
      const name = named('RoleName', 64);
      const path = String(props.Path ?? '/');
      return {
        ref: name,
        attributes: {
          Arn: `arn:aws:iam::${account}:role${path}${name}`,
          RoleId: `AROA${stableId(stack, logicalId)}`,
        },
      };
    }
    case 'AWS::ECS::Cluster': {
      const name = named('ClusterName', 255);
      return { ref: name, attributes: { Arn: `arn:aws:ecs:${region}:${account}:cluster/${name}` } };
    }
    case 'AWS::ECS::Service': {
      const name = named('ServiceName', 255);
      const clusterRef =
        props.Cluster === undefined ? 'default' : String(resolver.resolve(props.Cluster, logicalId));
      const cluster = clusterRef.split('/').pop()!;
      const arn = `arn:aws:ecs:${region}:${account}:service/${cluster}/${name}`;
      return { ref: arn, attributes: { Name: name, ServiceArn: arn } };
    }
    case 'AWS::ECS::TaskDefinition': {
      const family = named('Family', 255);
      const arn = `arn:aws:ecs:${region}:${account}:task-definition/${family}:1`;
      return { ref: arn, attributes: { TaskDefinitionArn: arn } };
    }
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName', 512);
      return { ref: name, attributes: { Arn: `arn:aws:logs:${region}:${account}:log-group:${name}:*` } };
    }
    case 'AWS::SNS::Topic': {
      const name = named('TopicName', 256);
      const arn = `arn:aws:sns:${region}:${account}:${name}`;
      return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
    }
    case 'AWS::KMS::Key': {
      const id = `local-key-${stableId(stack, logicalId).toLowerCase()}`;
      return { ref: id, attributes: { Arn: `arn:aws:kms:${region}:${account}:key/${id}`, KeyId: id } };
    }
    default: {
      // Not emulated (VPC, ASG, alarms, …): stable ids that look like the real ones.
      const id = physicalName(`${resolver.namePrefix}${stack}`, logicalId, 128);
      const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'local';
      return {
        ref: id,
        attributes: {
          Arn: `arn:aws:${service}:${region}:${account}:${logicalId}/${id}`,
          Name: id,
          GroupId: id,
        },
      };
    }
  }
}
