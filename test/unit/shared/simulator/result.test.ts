import { describe, expect, it } from 'vitest';
import { lambdaCost, listPrices, simulate } from '../../../../shared/simulator/index.ts';

describe('lambdaCost', () => {
  it('bills GB-seconds at the architecture price and requests per invocation', () => {
    // Act: 1,000 invocations of 500 ms at 1,024 MiB on Arm = 500 GB-s
    const cost = lambdaCost(1000, 500_000, 1024, 'arm64');
    // Assess
    expect(cost.gbSeconds).toBe(500);
    expect(cost.compute).toBeCloseTo(500 * 0.0000133334, 12);
    expect(cost.requests).toBeCloseTo(1000 * 0.2e-6, 12);
  });

  it('charges x86 more than Arm for the same duration', () => {
    // Act
    const arm = lambdaCost(1, 1000, 2048, 'arm64');
    const x86 = lambdaCost(1, 1000, 2048, 'x86_64');
    // Assess
    expect(arm.gbSeconds).toBe(2);
    expect(x86.compute).toBeGreaterThan(arm.compute);
  });
});

describe('a run’s cost', () => {
  it('adds up its parts, DynamoDB at the on-demand price per write unit', () => {
    // Act
    const r = simulate({ ratePerSec: 1000, durationSeconds: 10, drainSeconds: 10 });
    // Assess
    const c = r.cost;
    expect(c.total).toBeCloseTo(
      c.lambdaCompute + c.lambdaRequests + c.dynamodbWrites + c.sqsRequests + c.gpuInstances,
      12,
    );
    expect(c.dynamodbWrites).toBeCloseTo(r.dynamodb.writeUnits * listPrices.dynamodb.writeRequestUnit, 12);
    expect(c.lambdaRequests).toBeCloseTo(r.lambda.invocations * listPrices.lambda.request, 12);
  });
});
