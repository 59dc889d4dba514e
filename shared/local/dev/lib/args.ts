import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DemoCloudOptions } from './demo-cloud.ts';

/** The repository root: what `cdk synth` runs in. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The demos' command line:
 *   --local-dir <dir>   where outputs.json, stack.json and iam-report.txt go (default .local)
 *   --assembly <dir>    deploy this cloud assembly as it is (default: synthesize unless cdk.out is fresh)
 *   --function-logs     print the functions' and workers' log lines (EMF metric lines are read, not printed)
 */
export function demoArgs(argv: readonly string[]): Omit<DemoCloudOptions, 'log'> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'local-dir': { type: 'string' },
      assembly: { type: 'string' },
      'function-logs': { type: 'boolean', default: false },
    },
  });
  return {
    projectRoot: PROJECT_ROOT,
    ...(values['local-dir'] ? { localDir: values['local-dir'] } : {}),
    ...(values.assembly ? { assemblyDir: values.assembly } : {}),
    ...(values['function-logs']
      ? {
          onFunctionLog: (line: string, functionName: string) =>
            process.stderr.write(`[${functionName}] ${line}\n`),
        }
      : {}),
  };
}
