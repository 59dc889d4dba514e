import type {
  DescribeAlarms,
  DescribeAlarmsInput,
  DescribeAlarmsOutput,
} from '../../shared/snapshots/index.ts';
import { CloudWatchClientUnavailableError } from './errors.ts';

interface CloudWatchSdk {
  readonly CloudWatchClient: new (
    config: object,
  ) => { send(command: unknown): Promise<DescribeAlarmsOutput> };
  readonly DescribeAlarmsCommand: new (input: DescribeAlarmsInput) => unknown;
}

/**
 * DescribeAlarms through the AWS SDK's CloudWatch client, loaded on first use.
 *
 * `@aws-sdk/client-cloudwatch` is not a dependency of this project yet, so it is not bundled: the
 * client is `require`d at run time, where Lambda's Node.js runtime provides the AWS SDK v3
 * (`/var/runtime/node_modules`, on `NODE_PATH`, which CommonJS resolution honours). Once the package
 * is added, import `CloudWatchClient` and `DescribeAlarmsCommand` here instead and bundle them like
 * every other client. Anywhere without it (a local run) the first call throws
 * `CloudWatchClientUnavailableError`, which the controller treats as alarms it cannot read.
 */
export function runtimeDescribeAlarms(): DescribeAlarms {
  let sdk: {
    client: InstanceType<CloudWatchSdk['CloudWatchClient']>;
    command: CloudWatchSdk['DescribeAlarmsCommand'];
  };
  return async (input) => {
    if (sdk === undefined) {
      let loaded: CloudWatchSdk;
      try {
        const { createRequire } = process.getBuiltinModule('node:module');
        loaded = createRequire(import.meta.url)('@aws-sdk/client-cloudwatch') as CloudWatchSdk;
      } catch (cause) {
        throw new CloudWatchClientUnavailableError({ cause });
      }
      sdk = { client: new loaded.CloudWatchClient({}), command: loaded.DescribeAlarmsCommand };
    }
    return sdk.client.send(new sdk.command(input));
  };
}
