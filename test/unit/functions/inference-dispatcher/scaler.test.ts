import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { EcsServiceScaler } from '../../../../functions/inference-dispatcher/scaler.ts';

function fakeEcs(desiredCount: number) {
  const calls: { name: string; input: unknown }[] = [];
  const client = {
    send: async (command: DescribeServicesCommand | UpdateServiceCommand) => {
      calls.push({ name: command.constructor.name, input: command.input });
      if (command instanceof DescribeServicesCommand) return { services: [{ desiredCount }] };
      return {};
    },
  } as unknown as ECSClient;
  return { client, calls };
}

describe('EcsServiceScaler', () => {
  it('raises a service at zero to one task', async () => {
    // Prepare
    const { client, calls } = fakeEcs(0);
    const scaler = new EcsServiceScaler(client, { cluster: 'gpu', service: 'worker' });
    // Act
    const outcome = await scaler.ensureRunning();
    // Assess
    expect(outcome).toBe('scaled-from-zero');
    expect(calls[1]).toEqual({
      name: UpdateServiceCommand.name,
      input: { cluster: 'gpu', service: 'worker', desiredCount: 1 },
    });
  });

  it('leaves a running service to its scaling policy', async () => {
    // Prepare
    const { client, calls } = fakeEcs(3);
    const scaler = new EcsServiceScaler(client, { cluster: 'gpu', service: 'worker' });
    // Act
    const outcome = await scaler.ensureRunning();
    // Assess
    expect(outcome).toBe('running');
    expect(calls.map((c) => c.name)).toEqual([DescribeServicesCommand.name]);
  });

  it('trusts a recent answer instead of asking ECS on every batch', async () => {
    // Prepare
    let now = 0;
    const { client, calls } = fakeEcs(0);
    const scaler = new EcsServiceScaler(client, {
      cluster: 'gpu',
      service: 'worker',
      cacheMs: 1_000,
      now: () => now,
    });
    await scaler.ensureRunning();
    // Act
    now = 999;
    const cached = await scaler.ensureRunning();
    now = 1_000;
    await scaler.ensureRunning();
    // Assess
    expect(cached).toBe('running');
    expect(calls.filter((c) => c.name === DescribeServicesCommand.name)).toHaveLength(2);
  });
});
