import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../../../../shared/local/aws/ports.ts';
import {
  IamEvaluator,
  LocalIdentities,
  startIamGateway,
} from '../../../../../../shared/local/cloud/iam/index.ts';

// Nothing here reaches the upstream: the gateways are only started and stopped.
const gatewayOn = (port: number) =>
  startIamGateway({
    service: 'sqs',
    upstream: 'http://127.0.0.1:9',
    evaluator: new IamEvaluator([]),
    identities: new LocalIdentities([]),
    region: 'us-east-1',
    account: '123456789012',
    port,
  });

describe('startIamGateway port', () => {
  it('listens on the port it is given, so queue URLs survive a restart', async () => {
    // Prepare
    const port = await freePort('127.0.0.1');
    // Act
    const gateway = await gatewayOn(port);
    // Assess
    expect(gateway.url).toBe(`http://127.0.0.1:${port}`);
    await gateway.stop();
  });

  it('falls back to an ephemeral port when that one is taken', async () => {
    // Prepare
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as { port: number }).port;
    // Act
    const gateway = await gatewayOn(taken);
    // Assess
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.url).not.toBe(`http://127.0.0.1:${taken}`);
    // It answers there (502: the upstream of this test does not exist).
    expect((await fetch(gateway.url)).status).toBe(502);
    await gateway.stop();
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  });
});
