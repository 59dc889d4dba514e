import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlarmState } from '../../../shared/snapshots/index.ts';

/** A DescribeAlarms request as the fake received it. */
export interface DescribeAlarmsRequest {
  readonly AlarmNames?: string[];
  readonly MaxRecords?: number;
  readonly NextToken?: string;
}

export interface FakeCloudWatch {
  /** Point the SDK here: `AWS_ENDPOINT_URL_CLOUDWATCH`. */
  readonly url: string;
  /** Metric alarms it knows, by name; set a state between calls. */
  readonly alarms: Map<string, AlarmState>;
  readonly requests: DescribeAlarmsRequest[];
  close(): Promise<void>;
}

/**
 * CloudWatch's DescribeAlarms over the AWS JSON 1.0 protocol the SDK's CloudWatch client speaks:
 * the metric alarms it knows among the names asked for. Any other operation is refused.
 */
export async function startFakeCloudWatch(): Promise<FakeCloudWatch> {
  const alarms = new Map<string, AlarmState>();
  const requests: DescribeAlarmsRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      if (!target.endsWith('.DescribeAlarms')) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
        return;
      }
      const input = JSON.parse(Buffer.concat(chunks).toString() || '{}') as DescribeAlarmsRequest;
      requests.push(input);
      const names = input.AlarmNames ?? [...alarms.keys()];
      const metricAlarms = names
        .filter((name) => alarms.has(name))
        .map((name) => ({ AlarmName: name, StateValue: alarms.get(name) }));
      res.end(JSON.stringify({ MetricAlarms: metricAlarms, CompositeAlarms: [] }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    alarms,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
