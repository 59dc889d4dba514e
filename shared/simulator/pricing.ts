/**
 * List prices the simulator costs a run with: **us-east-1 (N. Virginia), on-demand list prices in
 * USD, as published on the AWS pricing pages in late 2026** (Lambda: first pricing tier, no free
 * tier, no Savings Plans; DynamoDB: on-demand after the November 2024 price cut; EC2: Linux
 * on-demand). They are list prices, not a bill: discounts, free tiers, data transfer, storage,
 * CloudWatch and NAT are not in them. Change them here, in one place.
 */
export const listPrices = {
  region: 'us-east-1',
  asOf: '2026-12',
  lambda: {
    /** USD per GB-second, by architecture (first 6 billion GB-s a month on Arm, 7.5 billion on x86). */
    gbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
    /** USD per request. */
    request: 0.2 / 1_000_000,
  },
  dynamodb: {
    /** USD per on-demand write request unit. */
    writeRequestUnit: 0.625 / 1_000_000,
    /** USD per provisioned WCU-hour. */
    provisionedWcuHour: 0.00065,
  },
  sqs: {
    /** USD per request (standard queue; each 64 KiB chunk of a request is billed as one). */
    request: 0.4 / 1_000_000,
  },
  ec2: {
    /** USD per instance-hour, Linux on-demand. */
    instanceHour: {
      'g5.xlarge': 1.006,
      'g5.2xlarge': 1.212,
      'g4dn.xlarge': 0.526,
      'g6.xlarge': 0.8048,
    } as Readonly<Record<string, number>>,
    /** Used for a GPU instance type not listed above. */
    unknownInstanceHour: 1.006,
  },
} as const;
