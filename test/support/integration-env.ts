import { inject } from 'vitest';

// Runs in every test worker before its test files: `new DynamoDBClient({})` and `new SQSClient({})`
// then reach the stack the global setup started.
Object.assign(process.env, inject('localAwsEnv'));
