import { inject } from 'vitest';

// Runs in every e2e worker before its test files: the target's outputs file and, on the local
// cloud, the gateways' endpoints with placeholder admin credentials, so that `new SQSClient({})`,
// `new DynamoDBClient({})` and the snapshot CLI reach the deployment under test. Against LocalStack
// or AWS the caller's own AWS_* settings apply; E2E_REGION names the region when AWS_REGION does not.
Object.assign(process.env, inject('e2eEnv'));
if (process.env.E2E_REGION && !process.env.AWS_REGION) process.env.AWS_REGION = process.env.E2E_REGION;
