import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TemplateStack } from '../../../shared/simulator/index.ts';

type Props = Record<string, unknown>;

export interface WritePathTemplateOptions {
  readonly eventSource?: Props;
  readonly function?: Props;
  readonly environment?: Props;
  readonly table?: Props;
  readonly queue?: Props;
}

/**
 * A hand-made write-path template with the resources the simulator reads (batch-writer function,
 * its SQS event source mapping, the ingest queue, the items table), in the shape `cdk synth`
 * writes them; `options` are merged over each resource's properties.
 */
export function writePathStack(options: WritePathTemplateOptions = {}): TemplateStack {
  return {
    name: 'WritePath',
    template: {
      Resources: {
        Table: {
          Type: 'AWS::DynamoDB::Table',
          Properties: { BillingMode: 'PAY_PER_REQUEST', ...options.table },
        },
        Snapshots: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PAY_PER_REQUEST' } },
        Queue: {
          Type: 'AWS::SQS::Queue',
          Properties: { VisibilityTimeout: 360, RedrivePolicy: { maxReceiveCount: 5 }, ...options.queue },
        },
        Writer: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            MemorySize: 1024,
            Timeout: 60,
            Architectures: ['arm64'],
            Environment: {
              Variables: {
                TABLE_ROUTES: { 'Fn::Join': ['', ['{"items":{"tableName":"', { Ref: 'Table' }, '"}}']] },
                SNAPSHOTS_TABLE: { Ref: 'Snapshots' },
                MAX_CONCURRENCY: '8',
                DEADLINE_MARGIN_MS: '1500',
                ...options.environment,
              },
            },
            ...options.function,
          },
        },
        Mapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: {
            BatchSize: 1000,
            MaximumBatchingWindowInSeconds: 1,
            ScalingConfig: { MaximumConcurrency: 10 },
            EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
            FunctionName: { Ref: 'Writer' },
            ...options.eventSource,
          },
        },
      },
    },
  };
}

/** Writes `stacks` as a cloud assembly (manifest.json + templates) in `dir`. */
export async function writeAssembly(dir: string, stacks: readonly TemplateStack[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const artifacts: Record<string, unknown> = {};
  for (const stack of stacks) {
    const templateFile = `${stack.name}.template.json`;
    await writeFile(join(dir, templateFile), JSON.stringify(stack.template));
    artifacts[stack.name] = { type: 'aws:cloudformation:stack', properties: { templateFile } };
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ version: '1', artifacts }));
}
